/* fuzz_config.c: the config loader and validator on arbitrary bytes, and the JSON position scanner it uses. */
#include "fuzz.h"

#include "config.h"
#include "jsonpos.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* ${EB_FUZZ_VAR} expands; ${ANY_OTHER} reaches the "not set" error path */
	setenv("EB_FUZZ_VAR", "models", 1);
	return 0;
}

/* The scanner alone: arbitrary bytes must not crash it; JSON jansson reads must scan whole. */
static void scan(const uint8_t *data, size_t size)
{
	struct eb_jsonpos m;
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	memset(&m, 0, sizeof(m));
	rc = eb_jsonpos_scan(&m, (const char *)data, size);
	EB_FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	/* jansson skips a NUL byte after a number; eb_config_load refuses NUL bytes first */
	EB_FUZZ_CHECK(!root || memchr(data, '\0', size) || rc == 0,
		      "jansson parsed it, the scanner did not");
	if (root) {
		/* the root is always recorded, at the first value character */
		const struct eb_jsonpos_ent *e = eb_jsonpos_find(&m, "");

		EB_FUZZ_CHECK(e != NULL, "no root entry");
		EB_FUZZ_CHECK(e->val_line >= 1 && e->val_col >= 1, "root at %d:%d", e->val_line,
			      e->val_col);
		json_decref(root);
	}
	for (size_t i = 0; i < m.n; i++)
		EB_FUZZ_CHECK(eb_jsonpos_find(&m, m.ents[i].path) != NULL, "entry %zu", i);
	eb_jsonpos_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eb_config cfg;
	struct eb_err err;
	char path[600], *errors = NULL;
	int rc;

	scan(data, size);
	eb_fuzz_write(eb_fuzz_path(path, sizeof(path), "config.json"), data, size);
	rc = eb_config_load(&cfg, path, &errors, &err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_ECONFIG, "rc %d", rc);
	if (rc == 0) {
		EB_FUZZ_CHECK(errors == NULL, "errors on success");
		EB_FUZZ_CHECK(cfg.n_targets > 0 && cfg.n_models > 0, "%zu targets, %zu models",
			      cfg.n_targets, cfg.n_models);
		for (size_t i = 0; i < cfg.n_models; i++)
			EB_FUZZ_CHECK(cfg.models[i].n_variants > 0, "model %zu has no variant", i);
		EB_FUZZ_CHECK(strlen(cfg.sha256) == 64, "sha256");
	} else {
		/* every problem is reported as "path:line:col: message" or names the file */
		EB_FUZZ_CHECK(errors != NULL && errors[0], "an error without text");
		EB_FUZZ_CHECK(strncmp(errors, path, strlen(path)) == 0, "error does not name the file: %s",
			      errors);
		EB_FUZZ_CHECK(err.msg[0] != '\0', "err.msg empty");
	}
	free(errors);
	eb_config_release(&cfg);
	return 0;
}
