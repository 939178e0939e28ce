/* fuzz_card_discord.c: cards_from_payload with the Discord dialect forced
 * (src/cards/discord.c); the checks are fuzz_card_auto.c's. */
#define CARD_FUZZ_DIALECT CARD_DISCORD
#include "fuzz_card_auto.c"
