/* fuzz_conn_alertmanager.c: the alertmanager connector (src/connectors/alertmanager.c); the checks
 * are connector_target.c's. */
#define CONNECTOR_FUZZ_TYPE "alertmanager"
#include "connector_target.c"
