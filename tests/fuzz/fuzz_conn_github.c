/* fuzz_conn_github.c: the github connector (src/connectors/github.c); the checks are
 * connector_target.c's. */
#define CONNECTOR_FUZZ_TYPE "github"
#include "connector_target.c"
