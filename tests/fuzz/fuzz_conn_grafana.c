/* fuzz_conn_grafana.c: the grafana connector (src/connectors/grafana.c); the checks are
 * connector_target.c's. */
#define CONNECTOR_FUZZ_TYPE "grafana"
#include "connector_target.c"
