/*
 * mcp-brokerctl logs: not written yet.
 */
#include <stdio.h>

#include "ctl.h"

/* logs: not written yet. */
int
ctl_logs(struct client *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	fprintf(stderr, "mcp-brokerctl: logs is not written yet\n");
	return (CTL_EXIT_USAGE);
}
