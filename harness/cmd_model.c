/* cmd_model.c: TEMPORARY placeholder for `edgebench model`. */
#include "cli.h"

#include <stdio.h>

int eb_cmd_model(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 2; }
