/* --chmod: octal, or chmod(1) symbolic modes with the semantics of BSD setmode(3) and a zero
 * umask, which is what BuildKit uses (github.com/tonistiigi/dchapes-mode). A symbolic mode is
 * a list of commands applied in order to each entry's own mode. */
#include <errno.h>
#include <string.h>

#include "basic/util.h"
#include "build/copy-internal.h"

#define STANDARD_BITS (S_ISUID | S_ISGID | S_IRWXU | S_IRWXG | S_IRWXO)
#define ALL_BITS      ((mode_t)07777)

enum {
        CMD2_CLR = 1 << 0,
        CMD2_SET = 1 << 1,
        CMD2_U = 1 << 2,
        CMD2_G = 1 << 3,
        CMD2_O = 1 << 4,
};

/* '+' / '-' set or clear BITS; 'X' sets BITS if the entry is a dir or executable by anyone;
 * 'u' / 'g' / 'o' copy that class's bits into the classes in CMD2. */
struct chmod_cmd {
        char cmd;
        unsigned char cmd2;
        mode_t bits;
};

static void push(struct chmod_spec *c, char cmd, unsigned char cmd2, mode_t bits)
{
        c->cmds = xrealloc(c->cmds, (c->n_cmds + 1) * sizeof(*c->cmds));
        c->cmds[c->n_cmds++] = (struct chmod_cmd){ .cmd = cmd, .cmd2 = cmd2, .bits = bits };
}

/* Add OP for the classes WHO (0 = all): PERM bits for + - = X, the operator for a copy. */
static void add_cmd(struct chmod_spec *c, char op, mode_t who, mode_t perm)
{
        if (op == '=') {
                push(c, '-', 0, who ? who : STANDARD_BITS);
                op = '+';
        }
        if (op == '+' || op == '-' || op == 'X') {
                push(c, op, 0, (who ? who : ALL_BITS) & perm);
                return;
        }
        /* u, g, o: PERM is the operator */
        unsigned char cmd2 = !who ? CMD2_U | CMD2_G | CMD2_O
                                  : ((who & S_IRUSR) ? CMD2_U : 0) |
                                             ((who & S_IRGRP) ? CMD2_G : 0) |
                                             ((who & S_IROTH) ? CMD2_O : 0);
        cmd2 |= perm == '+' ? CMD2_SET : perm == '-' ? CMD2_CLR : CMD2_SET | CMD2_CLR;
        push(c, op, cmd2, who ? (mode_t)~0 : ALL_BITS);
}

static const char *parse_who(const char *s, mode_t *who)
{
        for (;; s++) {
                switch (*s) {
                case 'a':
                        *who |= STANDARD_BITS;
                        break;
                case 'u':
                        *who |= S_ISUID | S_IRWXU;
                        break;
                case 'g':
                        *who |= S_ISGID | S_IRWXG;
                        break;
                case 'o':
                        *who |= S_IRWXO;
                        break;
                default:
                        return s;
                }
        }
}

struct perm_state {
        mode_t perm, perm_x;
        bool equal_done;
};

/* One permission letter of OP for WHO; false at the end of the list. */
static bool parse_perm(struct chmod_spec *c, char op, mode_t *who, struct perm_state *ps, char ch)
{
        bool not_only_o = *who == 0 || (*who & ~(mode_t)S_IRWXO);
        switch (ch) {
        case 'r':
                ps->perm |= S_IRUSR | S_IRGRP | S_IROTH;
                return true;
        case 'w':
                ps->perm |= S_IWUSR | S_IWGRP | S_IWOTH;
                return true;
        case 'x':
                ps->perm |= S_IXUSR | S_IXGRP | S_IXOTH;
                return true;
        case 'X':
                if (op == '+')
                        ps->perm_x = S_IXUSR | S_IXGRP | S_IXOTH;
                return true;
        case 's':
                if (not_only_o)
                        ps->perm |= S_ISUID | S_ISGID;
                return true;
        case 't':
                if (not_only_o) {
                        *who |= S_ISVTX;
                        ps->perm |= S_ISVTX;
                }
                return true;
        case 'u':
        case 'g':
        case 'o':
                if (ps->perm)
                        add_cmd(c, op, *who, ps->perm);
                ps->perm = 0;
                if (op == '=')
                        ps->equal_done = true;
                if (ps->perm_x)
                        add_cmd(c, 'X', *who, ps->perm_x);
                ps->perm_x = 0;
                add_cmd(c, ch, *who, (mode_t)op);
                return true;
        default:
                if (ps->perm || (op == '=' && !ps->equal_done))
                        add_cmd(c, op, *who, ps->perm);
                if (ps->perm_x)
                        add_cmd(c, 'X', *who, ps->perm_x);
                return false;
        }
}

/* "who op perms [op perms]..." clauses separated by ','; -EINVAL on bad syntax. */
static int parse_symbolic(struct chmod_spec *c, const char *s)
{
        for (;;) {
                mode_t who = 0;
                s = parse_who(s, &who);
                do {
                        char op = *s;
                        if (op != '+' && op != '-' && op != '=')
                                return -EINVAL;
                        s++;
                        who &= ~(mode_t)S_ISVTX;
                        struct perm_state ps = { 0 };
                        while (parse_perm(c, op, &who, &ps, *s))
                                s++;
                } while (*s && *s != ',');
                if (!*s)
                        return 0;
                s++;
        }
}

static bool is_octal(const char *s)
{
        return *s && strspn(s, "01234567") == strlen(s);
}

int build_chmod_parse(const char *s, int64_t *ret_mode, struct st_error **err)
{
        if (is_octal(s)) {
                uint64_t v = 0;
                for (const char *p = s; *p && v <= 07777; p++)
                        v = v * 8 + (uint64_t)(*p - '0');
                if (v <= 07777) {
                        *ret_mode = (int64_t)v;
                        return 0;
                }
        }
        if (!*s || (*s >= '0' && *s <= '9'))
                return st_error_set(err, ST_E_PARSE,
                                    "invalid chmod parameter: '%s'. it should be octal string "
                                    "and between 0 and 07777",
                                    s);
        struct chmod_spec c = { .mode = -1 };
        int r = parse_symbolic(&c, s);
        chmod_spec_release(&c);
        if (r < 0)
                return st_error_set(err, ST_E_PARSE,
                                    "invalid chmod parameter: '%s': invalid "
                                    "syntax",
                                    s);
        *ret_mode = -1;
        return 1;
}

int chmod_spec_init(struct chmod_spec *c, int64_t mode, const char *mode_str, struct st_error **err)
{
        *c = (struct chmod_spec){ .mode = -1 };
        if (mode < -1 || mode > 07777)
                return st_error_set(err, ST_E_PARSE,
                                    "invalid chmod parameter: '%llo'. it "
                                    "should be octal string and between 0 and 07777",
                                    (unsigned long long)mode);
        if (mode >= 0 && mode_str)
                return st_error_set(err, ST_E_PARSE, "both an octal and a symbolic --chmod");
        c->mode = mode;
        if (!mode_str)
                return 0;
        int64_t m;
        int r = build_chmod_parse(mode_str, &m, err);
        if (r == 0)
                c->mode = m;
        else if (r > 0)
                (void)parse_symbolic(c, mode_str); /* checked above */
        return r < 0 ? r : 0;
}

void chmod_spec_release(struct chmod_spec *c)
{
        free(c->cmds);
        c->cmds = NULL;
        c->n_cmds = 0;
}

/* A copy command: VALUE (3 bits) cleared from and/or set into the classes of CMD. */
static mode_t apply_copy(const struct chmod_cmd *cmd, mode_t m, mode_t value)
{
        if (cmd->cmd2 & CMD2_CLR) {
                mode_t clr = (cmd->cmd2 & CMD2_SET) ? 07 : value;
                if (cmd->cmd2 & CMD2_U)
                        m &= ~((clr << 6) & cmd->bits);
                if (cmd->cmd2 & CMD2_G)
                        m &= ~((clr << 3) & cmd->bits);
                if (cmd->cmd2 & CMD2_O)
                        m &= ~(clr & cmd->bits);
        }
        if (cmd->cmd2 & CMD2_SET) {
                if (cmd->cmd2 & CMD2_U)
                        m |= (value << 6) & cmd->bits;
                if (cmd->cmd2 & CMD2_G)
                        m |= (value << 3) & cmd->bits;
                if (cmd->cmd2 & CMD2_O)
                        m |= value & cmd->bits;
        }
        return m;
}

mode_t chmod_spec_apply(const struct chmod_spec *c, mode_t st_mode)
{
        if (c->mode >= 0)
                return (mode_t)c->mode;
        mode_t omode = st_mode & ALL_BITS, m = omode;
        for (size_t i = 0; i < c->n_cmds; i++) {
                const struct chmod_cmd *cmd = &c->cmds[i];
                switch (cmd->cmd) {
                case 'u':
                        m = apply_copy(cmd, m, (m & S_IRWXU) >> 6);
                        break;
                case 'g':
                        m = apply_copy(cmd, m, (m & S_IRWXG) >> 3);
                        break;
                case 'o':
                        m = apply_copy(cmd, m, m & S_IRWXO);
                        break;
                case '+':
                        m |= cmd->bits;
                        break;
                case '-':
                        m &= ~cmd->bits;
                        break;
                case 'X':
                        if ((omode & (S_IXUSR | S_IXGRP | S_IXOTH)) || S_ISDIR(st_mode))
                                m |= cmd->bits;
                        break;
                }
        }
        return m & ALL_BITS;
}

mode_t chmod_spec_dir_mode(const struct chmod_spec *c)
{
        return c->mode >= 0 ? (mode_t)c->mode : 0755;
}
