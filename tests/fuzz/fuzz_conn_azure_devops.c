/* fuzz_conn_azure_devops.c: the azure_devops connector (src/connectors/azure_devops.c); the checks
 * are connector_target.c's. */
#define CONNECTOR_FUZZ_TYPE "azure_devops"
#include "connector_target.c"
