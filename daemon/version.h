/*
 * The version both programs report, and the broker declares to children.
 */
#ifndef DAEMON_VERSION_H
#define DAEMON_VERSION_H

#define BROKER_VERSION	"0.1.0"

#endif
