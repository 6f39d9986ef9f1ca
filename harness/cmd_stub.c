/* cmd_stub.c: TEMPORARY placeholders for subcommands not written yet. */
#include "cli.h"

#include <stdio.h>

int eb_cmd_bench(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 2; }
