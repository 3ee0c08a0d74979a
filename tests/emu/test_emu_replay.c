/* test_emu_replay.c — replays every device-side message of the real SDK capture
 * (data/capture-replay.txt, copied from shared/captures) with the SDKs' own credentials
 * and asserts that the emulator accepts each CONNECT and SUBSCRIBE and answers every
 * request with code 200 and the request's id. Between runs the operator "resets" the
 * sub-device the demo registers, since the platform issues a secret only once (§11.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emu_harness.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static emu_broker_t b;

static int setup(void **s)
{
    (void)s;
    char *reg = slurp(EMU_DATA_DIR "/capture-registry.json");
    if (!reg) return -1;
    int rc = emu_broker_start(&b, reg, false);
    free(reg);
    return rc;
}

static int teardown(void **s)
{
    (void)s;
    return emu_broker_cleanup(&b);
}

static void t_replay_capture(void **s)
{
    emu_client_t *c = NULL;
    bool ss = false;
    int replies = 0, connects = 0;
    (void)s;
    FILE *f = fopen(EMU_DATA_DIR "/capture-replay.txt", "r");
    assert_non_null(f);
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        if (!strncmp(line, "RUN ", 4)) {
            emu_client_close(c);
            c = NULL;
            const char *args[] = {"reset", "a13FN5TplKq", "subdev_basic_demo_01", NULL};
            assert_int_equal(emu_cli(&b, NULL, args), 0);
            continue;
        }
        char *sp = strchr(line, ' ');
        assert_non_null(sp);
        *sp = '\0';
        char *rest = sp + 1;
        if (!strcmp(line, "CONNECT")) {
            char *ka = strtok(rest, " "), *cid = strtok(NULL, " "), *user = strtok(NULL, " "), *pass = strtok(NULL, " ");
            int rc;
            assert_non_null(pass);
            c = emu_client_connect(&b, cid, user, pass, atoi(ka), false, &rc);
            assert_int_equal(rc, 0);
            ss = strstr(cid, "_ss=1") != NULL;
            connects++;
        } else if (!strcmp(line, "SUB")) {
            assert_int_equal(emu_client_sub(c, rest), 0);
        } else if (!strcmp(line, "PUB")) {
            char *payload = strchr(rest, ' ');
            assert_non_null(payload);
            *payload++ = '\0';
            if (!strncmp(rest, "/ota/device/inform/", 19)) {          /* no reply defined */
                emu_client_pub(c, rest, payload);
                continue;
            }
            char reply_topic[512];
            snprintf(reply_topic, sizeof reply_topic, "%s_reply", rest);
            if (!ss) assert_int_equal(emu_client_sub(c, reply_topic), 0);
            json_error_t je;
            json_t *req = json_loads(payload, 0, &je);
            assert_non_null(req);
            json_t *r = emu_client_request(c, rest, payload, EMU_WAIT_MS);
            if (!r || emu_code(r) != 200) {
                char *t = r ? json_dumps(r, 0) : NULL;
                fprintf(stderr, "replay: %s -> %s\n", rest, t ? t : "(no reply)");
                free(t);
            }
            assert_non_null(r);
            assert_int_equal(emu_code(r), 200);
            assert_string_equal(json_string_value(json_object_get(r, "id")), json_string_value(json_object_get(req, "id")));
            assert_non_null(json_object_get(r, "data"));
            assert_non_null(json_object_get(r, "message"));
            json_decref(r);
            json_decref(req);
            replies++;
        } else {
            fail_msg("bad fixture line %s", line);
        }
    }
    fclose(f);
    emu_client_close(c);
    fprintf(stderr, "replay: %d connects, %d requests answered with 200\n", connects, replies);
    assert_int_equal(connects, 4);
    assert_true(replies >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_replay_capture)};
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + emu_harness_failures;
}
