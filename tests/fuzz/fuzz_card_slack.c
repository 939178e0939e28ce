/* fuzz_card_slack.c: cards_from_payload with the Slack dialect forced (src/cards/slack.c); the
 * checks are fuzz_card_auto.c's. */
#define CARD_FUZZ_DIALECT CARD_SLACK
#include "fuzz_card_auto.c"
