/* fuzz_card_messagecard.c: cards_from_payload with the messagecard dialect forced (src/cards/); the
 * checks are fuzz_card_auto.c's. */
#define CARD_FUZZ_DIALECT CARD_MESSAGECARD
#include "fuzz_card_auto.c"
