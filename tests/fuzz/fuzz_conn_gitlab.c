/* fuzz_conn_gitlab.c: the gitlab connector (src/connectors/gitlab.c); the checks are
 * connector_target.c's. */
#define CONNECTOR_FUZZ_TYPE "gitlab"
#include "connector_target.c"
