/* fuzz_mrkdwn.c: slack_mrkdwn_to_markdown on arbitrary bytes up to the first NUL
 * (src/cards/slack.c). Checks: no crash, the output no longer than the conversion can need
 * (every construct at most doubles, plus a constant), and valid UTF-8 in gives valid UTF-8 out
 * (the converter only splits at ASCII characters). */
#include "fuzz.h"

#include "cards/cards_int.h"

#include <string.h>

static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    size_t n = strlen(s);
    char *md = slack_mrkdwn_to_markdown(s);
    FUZZ_CHECK(md != NULL);
    FUZZ_CHECK(strlen(md) <= 3 * n + 16);
    if (is_utf8(s))
        FUZZ_CHECK(is_utf8(md));
    free(md);
    free(s);
    return 0;
}
