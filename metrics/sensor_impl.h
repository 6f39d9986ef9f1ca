/* sensor_impl.h: helpers the sensor implementations in metrics/ share (not a public API). */
#ifndef EB_SENSOR_IMPL_H
#define EB_SENSOR_IMPL_H

#include <glob.h>
#include <stddef.h>
#include <stdint.h>

#include "eb_proc.h"
#include "eb_util.h"
#include "sensor.h"

/* --- files under a root ------------------------------------------------------------ */

/*
 * root + path into buf ("" or "/" root: path itself). Returns buf, or NULL when it does
 * not fit (callers treat that as "absent").
 */
char *eb_sysfs_path(char *buf, size_t n, const char *root, const char *path);

/*
 * Reads a small file whole (open, read, close: a sysfs attribute is regenerated on every
 * open) into buf, NUL-terminated, trailing whitespace removed. Returns 0; EB_ENOENT when
 * it does not exist; EB_EIO otherwise ("cannot read 'path': <strerror>"). errno is left
 * as the failing call set it (EACCES lets callers explain permissions).
 */
int eb_sysfs_read(const char *path, char *buf, size_t n, struct eb_err *err);

/* Reads a file holding one integer (decimal). EB_EPARSE when it holds something else. */
int eb_sysfs_read_ll(const char *path, long long *v, struct eb_err *err);
int eb_sysfs_read_u64(const char *path, uint64_t *v, struct eb_err *err);

/*
 * A file kept open and re-read with pread at offset 0 (a sysfs attribute regenerates its
 * value on every read from 0): 9x cheaper per sample than open/read/close. A file that was
 * unlinked since it was opened (a fixture being rewritten or deleted) is reopened by path;
 * when the path is gone the read fails with EB_ENOENT. Device removal on sysfs reads ENODEV.
 */
struct eb_sysfs_file {
	int fd;
	char *path;
};

/* Opens path; 0 or eb_sysfs_read's errors (errno kept). */
int eb_sysfs_open(struct eb_sysfs_file *f, const char *path, struct eb_err *err);
/* The content into buf as eb_sysfs_read does; errors name the path. */
int eb_sysfs_pread(struct eb_sysfs_file *f, char *buf, size_t n, struct eb_err *err);
int eb_sysfs_pread_ll(struct eb_sysfs_file *f, long long *v, struct eb_err *err);
int eb_sysfs_pread_u64(struct eb_sysfs_file *f, uint64_t *v, struct eb_err *err);
/* Closes; safe on a zeroed (never opened) or closed file. */
void eb_sysfs_close(struct eb_sysfs_file *f);

/* 1 when root + path exists. */
int eb_sysfs_exists(const char *root, const char *path);

/*
 * glob(3) of root + pattern, sorted; paths in g->gl_pathv include the root. Returns the
 * number of matches (0 when none or on error); release with globfree() when > 0.
 */
size_t eb_sysfs_glob(const char *root, const char *pattern, glob_t *g);

/* --- a stream of lines, each stamped when it arrived ------------------------------------ */

struct eb_line_rec {
	char *text;
	uint64_t t_ns;
};

struct eb_lines {
	int fd;             /* set O_NONBLOCK by init; not closed by release */
	int follow;         /* a growing file: end of file only means "nothing yet" */
	int eof;            /* a pipe ended (every later pump is a no-op) */
	int read_errno;     /* errno of a failed read, or 0 */
	int skipping;       /* inside an over-long line, dropping up to its newline */
	struct eb_buf partial;
	struct eb_line_rec *q;
	size_t head, len, cap;
	size_t n_dropped;   /* lines dropped: queue full (oldest first) or longer than 64 KiB */
};

/* Starts reading `fd` (made non-blocking). follow: see above. */
void eb_lines_init(struct eb_lines *l, int fd, int follow);

/*
 * Reads whatever is available now; every line completed by this call is stamped with
 * eb_clock_ns() taken right after the read that completed it. A pipe's last unterminated
 * line counts as complete at its end. Returns the number of new lines.
 */
size_t eb_lines_pump(struct eb_lines *l);

/* The oldest queued line: 1 with *text malloc'd (caller frees) and its stamp; 0 when none. */
int eb_lines_next(struct eb_lines *l, char **text, uint64_t *t_ns);

/* Frees the queue and buffer (the descriptor stays open). */
void eb_lines_release(struct eb_lines *l);

/* Drains a non-blocking descriptor into a capped buffer, keeping the last `keep` bytes. */
void eb_drain_fd(int fd, struct eb_buf *tail, size_t keep);

/* --- child processes that stream lines ------------------------------------------------ */

/*
 * Lines from a child's stdout (its stderr kept for the error when it ends) or from a file
 * descriptor the caller owns: what the tegrastats and cmd sensors read. Zeroed = nothing
 * open; every function takes that state.
 */
struct eb_linesrc {
	struct eb_proc proc;
	int spawned;          /* a child is running (or ended, not yet reaped) */
	struct eb_lines lines;
	struct eb_buf errtail; /* the last 512 bytes of the child's stderr */
};

/* Starts argv (stdin /dev/null, stdout and stderr piped, its own process group). */
int eb_linesrc_spawn(struct eb_linesrc *s, const char *const *argv, struct eb_err *err);

/* Reads fd instead (follow: a file that grows, as tegrastats --logfile writes). */
void eb_linesrc_fd(struct eb_linesrc *s, int fd, int follow);

/* Takes in what arrived: queues stdout's lines (eb_lines_next on s->lines) and stderr. */
void eb_linesrc_pump(struct eb_linesrc *s);

/*
 * Once the queue is empty: 0 while more may come, else EB_EIO naming prog, either "cannot
 * read 'prog' output: <errno>" or, when the stream ended, "'prog' exited with status N
 * after K lines: <last stderr line>" (the child reaped once). n_lines: lines seen so far.
 */
int eb_linesrc_status(struct eb_linesrc *s, const char *prog, size_t n_lines,
		      struct eb_err *err);

/* Stops the child (eb_proc_stop, 1 s to exit) and frees the buffers; the fd of eb_linesrc_fd stays open. */
void eb_linesrc_close(struct eb_linesrc *s);

/* --- readings --------------------------------------------------------------------- */

/* Fills one reading; the rail name is cut at EB_SENSOR_RAIL_MAX characters. */
void eb_reading_set(struct eb_sensor_reading *r, const char *rail, double value,
		    const char *source, unsigned flags);

/*
 * When one of the power readings is a board input rail (VDD_IN, POM_5V_IN, VIN: see
 * eb_tegrastats_is_input_rail), marks it EB_RAIL_TOTAL and every other power reading
 * EB_RAIL_NOSUM (they are parts of it). Otherwise leaves the flags alone.
 */
void eb_readings_mark_input_total(struct eb_sensor_reading *r, size_t n);

/* [{rail, source, flags}] for describe(). */
json_t *eb_readings_json(const struct eb_sensor_reading *r, size_t n);

/*
 * A rail name unique among r[0..n): `name`, else `name`@`suffix`, else with #2, #3, ...;
 * a name too long for EB_SENSOR_RAIL_MAX with its tail is cut before the tail.
 */
void eb_reading_unique_name(const struct eb_sensor_reading *r, size_t n, const char *name,
			    const char *suffix, char *out, size_t outn);

/* The sensors, for the registry. */
extern const struct eb_sensor_ops eb_sensor_tegrastats;
extern const struct eb_sensor_ops eb_sensor_hwmon;
extern const struct eb_sensor_ops eb_sensor_nvml;
extern const struct eb_sensor_ops eb_sensor_rapl;
extern const struct eb_sensor_ops eb_sensor_cmd;
extern const struct eb_sensor_ops eb_sensor_proc;

#endif
