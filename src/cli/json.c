/* json.c — see json.h. */
#include <stdio.h>

#include "cli/json.h"

void cli_json_print(cJSON *o) {
    char *s = cJSON_Print(o);
    if (s) {
        puts(s);
        cJSON_free(s);
    }
    cJSON_Delete(o);
}
