/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands other than record and run, each in a file of its own. */
#ifndef CIDTRACE_COMMANDS_H
#define CIDTRACE_COMMANDS_H

#include <stdbool.h>

struct collector_cfg;
struct testdir_cfg;

/* `cidtrace report`: read a report, render it as text, HTML or JSON. */
int report_command(int argc, char **argv);
/* `cidtrace replay`: feed a --raw capture through the collector, write its report. */
int replay_command(int argc, char **argv);
/* `cidtrace cids`: the host's CID table, printed at once. */
int cids_command(const struct testdir_cfg *td, bool json);
/* `cidtrace guests`: every VMM on the host now, worst first. */
int guests_command(const struct collector_cfg *cfg, bool json);
/* `cidtrace doctor`: what this host supports and what cidtrace will use. */
int doctor_command(bool json);

#endif
