/* cli: the `switchboard` program: a table of subcommands, one file each. */
#ifndef SB_CLI_H
#define SB_CLI_H

#define CMD(name, fn, help) int fn(int argc, char **argv);
#include "commands.def"
#undef CMD

#endif
