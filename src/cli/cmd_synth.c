/* cmd_synth.c — placeholder (being written). */
#include "cli/cli.h"
int cmd_synth(int argc, char **argv) { return cli_error("synth", "not available yet"); }
