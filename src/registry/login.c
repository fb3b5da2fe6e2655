/* strata login / logout: credentials checked against the registry, then stored. */
#include "basic/util.h"
#include "registry/registry-internal.h"

/* GET /v2/ with the client's credentials: Basic, or a token from the token service. */
static int verify(struct registry_client *c, struct st_error **err)
{
        struct http_req req = {
                .method = "GET", .url = "/v2/", .follow = true, .cap = 64 * 1024, .body_fd = -1
        };
        struct http_resp resp = { 0 };
        int r = http_do(c, c->easy, &req, &resp, err);
        if (r >= 0 && resp.status == 401)
                r = st_error_set(err, ST_E_UNAUTHORIZED,
                                 "unauthorized: incorrect username or password");
        else if (r >= 0 && resp.status != 200)
                r = http_error(&resp, err);
        http_resp_release(&resp);
        return r;
}

int registry_login(struct registry_ctx *ctx, const char *domain, const char *username,
                   const char *password, struct st_error **err)
{
        _cleanup_client_ struct registry_client *c = NULL;
        int r = client_new(ctx, domain, NULL, NULL, &c, err);
        if (r < 0)
                return r;
        c->cred.username = xstrdup(username);
        c->cred.password = xstrdup(password);
        c->cred_loaded = true;
        r = verify(c, err);
        if (r < 0)
                return st_error_wrap(err, "login to '%s'", c->host->domain);
        if (!ctx->auth_file)
                return st_error_set(err, -ENOENT, "no credentials file to store the login in");
        return registry_cred_save(ctx->auth_file, c->host->domain, username, password, err);
}

int registry_logout(struct registry_ctx *ctx, const char *domain, struct st_error **err)
{
        if (!ctx->auth_file)
                return 0;
        return registry_cred_remove(ctx->auth_file, domain, err);
}
