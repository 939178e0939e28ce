/* fuzz_conn_trello.c: the trello connector (src/connectors/trello.c); the checks are
 * connector_target.c's. */
#define CONNECTOR_FUZZ_TYPE "trello"
#include "connector_target.c"
