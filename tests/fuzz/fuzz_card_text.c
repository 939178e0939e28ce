/* fuzz_card_text.c: cards_from_payload with the text dialect forced (src/cards/); the checks are
 * fuzz_card_auto.c's. */
#define CARD_FUZZ_DIALECT CARD_TEXT
#include "fuzz_card_auto.c"
