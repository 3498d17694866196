/* test_http_i18n.c — problem+json in the language Accept-Language asks for (api/http/i18n.h):
 * the same bad requests to a real server on loopback (the whole app over a small generated
 * city) without the header, with "en" and with "zh-CN,zh;q=0.9,en;q=0.8": status, type,
 * instance and the JSON shape stay; title and detail are Chinese with Content-Language: zh-CN;
 * every problem says Vary: Accept-Language.  Covers a route's own detail, a detail built
 * around the engine's message (the ctx keeps format and arguments), gw_req_fail's title, the
 * server's 404/405, the auth module's 401 and a 403 reason an auth hook wrote (gw_tr_why). */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/city.h"
#include "http_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char admin[GW_TOKEN_LEN + 1], viewer[GW_TOKEN_LEN + 1];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    const char *path = gw_test_path("i18n.sqlite");
    gw_store *s = hf_city(tctx, path, 0.01, 11);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "i18n", NULL, admin, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_VIEWER, "look", NULL, viewer, NULL), GW_OK);
    gw_store_close(s);
    static gw_server_opts o;
    assert_int_equal(hf_app_serve(tctx, path, 0, &o, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

typedef struct answer {
    long status;
    char type[64], title[256], detail[1024], instance[256], lang[64], vary[128];
} answer;

static answer ask(const char *method, const char *path, const char *token, const char *body,
                  const char *accept_language)
{
    answer a = {0};
    char h[128];
    const char *extra[2] = {NULL, NULL};
    if (accept_language) {
        snprintf(h, sizeof h, "Accept-Language: %s", accept_language);
        extra[0] = h;
    }
    hf_resp r = hf_request(method, path, token, body, body ? strlen(body) : 0,
                           body ? "application/geo+json" : NULL, extra);
    assert_int_equal(r.curl, 0);
    a.status = r.status;
    assert_true(strncmp(r.ctype, "application/problem+json", 24) == 0);
    hf_header(&r, "Content-Language", a.lang, sizeof a.lang);
    hf_header(&r, "Vary", a.vary, sizeof a.vary);
    json_t *doc = json_loads(r.body.data, 0, NULL);
    assert_non_null(doc);
    snprintf(a.type, sizeof a.type, "%s", json_string_value(json_object_get(doc, "type")));
    snprintf(a.title, sizeof a.title, "%s", json_string_value(json_object_get(doc, "title")));
    snprintf(a.detail, sizeof a.detail, "%s", json_string_value(json_object_get(doc, "detail")));
    snprintf(a.instance, sizeof a.instance, "%s",
             json_string_value(json_object_get(doc, "instance")));
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), r.status);
    json_decref(doc);
    hf_resp_free(&r);
    return a;
}

/* The request without Accept-Language, with "en" and with a Chinese browser's header: the
 * same status, type and instance; English twice; Chinese title and detail holding zh_title
 * and zh_detail. */
static void both(const char *method, const char *path, const char *token, const char *body,
                 long want, const char *en_title, const char *en_detail, const char *zh_title,
                 const char *zh_detail)
{
    answer n = ask(method, path, token, body, NULL);
    answer e = ask(method, path, token, body, "en");
    answer z = ask(method, path, token, body, "zh-CN,zh;q=0.9,en;q=0.8");
    fprintf(stderr, "%s %s\n  en: %s — %s\n  zh: %s — %s\n", method, path, n.title, n.detail,
            z.title, z.detail);
    assert_int_equal(n.status, want);
    assert_int_equal(e.status, want);
    assert_int_equal(z.status, want);
    assert_string_equal(n.type, z.type);
    assert_string_equal(n.instance, z.instance);
    assert_string_equal(n.title, en_title);
    assert_string_equal(e.title, en_title);
    assert_string_equal(n.detail, e.detail);
    assert_non_null(strstr(n.detail, en_detail));
    assert_string_equal(z.title, zh_title);
    assert_non_null(strstr(z.detail, zh_detail));
    assert_string_not_equal(n.detail, z.detail);
    assert_string_equal(n.lang, "");
    assert_string_equal(e.lang, "");
    assert_string_equal(z.lang, "zh-CN");
    assert_non_null(strstr(n.vary, "Accept-Language"));
    assert_non_null(strstr(z.vary, "Accept-Language"));
}

static void test_not_found(void **state)
{
    (void)state;
    both("GET", "/collections/nope/items", admin, NULL, 404, "Not Found", "no collection 'nope'",
         "未找到", "没有要素集合“nope”");
    both("GET", "/no/such/route", admin, NULL, 404, "Not Found", "no resource at '/no/such/route'",
         "未找到", "“/no/such/route”处没有资源");
}

static void test_bad_parameter(void **state)
{
    (void)state;
    /* the route's format around the engine's message: both parts translated */
    both("GET", "/collections/incidents/items?datetime=yesterday", admin, NULL, 400, "Bad Request",
         "datetime 'yesterday' is not an RFC 3339 instant", "请求有误",
         "参数 'datetime'：datetime“yesterday”不是 RFC 3339 时刻");
    both("GET", "/collections/incidents/items?limit=0", admin, NULL, 400, "Bad Request",
         "parameter 'limit': '0' must be an integer from 1 to", "请求有误",
         "参数 'limit'：“0”必须是 1 到");
}

static void test_method_and_auth(void **state)
{
    (void)state;
    both("DELETE", "/collections", admin, NULL, 405, "Method Not Allowed",
         "method DELETE is not allowed on '/collections'", "不允许的请求方法",
         "“/collections”不允许 DELETE 方法");
    both("POST", "/collections/cameras/items", NULL, "{}", 401, "Unauthorized",
         "this request needs a bearer token", "未认证", "此请求需要持有者令牌");
    both("POST", "/collections/cameras/items", viewer, "{}", 403, "Forbidden",
         "a viewer token may not do this; it needs at least the dispatcher role", "无权访问",
         "viewer 角色的令牌无权执行此操作；至少需要 dispatcher 角色");
}

static void test_engine_error(void **state)
{
    (void)state;
    /* gw_req_fail: the title from the gw_status, the detail the engine's message */
    both("POST", "/collections/cameras/items", admin,
         "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[500,35]},"
         "\"properties\":{}}",
         422, "Value Out Of Range", "coordinates out of range", "数值超出范围", "坐标超出范围");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_bad_parameter),
        cmocka_unit_test(test_method_and_auth),
        cmocka_unit_test(test_engine_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
