/* fuzz_card_adaptive.c: cards_from_payload with the adaptive dialect forced (src/cards/); the
 * checks are fuzz_card_auto.c's. */
#define CARD_FUZZ_DIALECT CARD_ADAPTIVE
#include "fuzz_card_auto.c"
