/* tokenizer_hf.c — Hugging Face tokenizer.json (+ tokenizer_config.json).
 *
 * Two kinds are read and written (see docs/formats-hf.md):
 *  - byte-level BPE (GPT-2, Llama-3, Qwen2): model BPE, pre_tokenizer
 *    ByteLevel and/or Split regexes, merges by rank, added tokens matched in
 *    the raw text.  Loaded as QMC_TOK_BPE.
 *  - SentencePiece-style BPE as Llama-2 ships it: model BPE with
 *    byte_fallback, spaces written as "▁" (normalizer Prepend + Replace, or a
 *    Metaspace pre-tokenizer).  Loaded as QMC_TOK_SPM with piece scores
 *    derived from the merge ranks; written with merges derived from the scores
 *    as transformers' SentencePieceExtractor does. */
#include <stdlib.h>
#include <string.h>

#include "formats/jsonfile.h"
#include "model/tokenizer_bpe.h"
#include "util/util.h"

#define TOKENIZER_JSON_MAX ((size_t)256 << 20)
#define MAX_VOCAB (1 << 24)
#define MAX_HOLES 4096 /* ids without a token ([PADn] placeholders) accepted in a tokenizer.json */

static const char k_meta[] = "\xe2\x96\x81"; /* "▁" */

/* ---- reading --------------------------------------------------------------------- */

typedef struct {
    const char *label;
    bool byte_level;      /* a ByteLevel pre-tokenizer was seen */
    bool metaspace;       /* "▁" handling was seen (normalizer or Metaspace) */
    bool add_space_prefix;
    const char *patterns[QMC_BPE_MAX_PATTERNS];
    char *owned[QMC_BPE_MAX_PATTERNS]; /* escaped literal Split patterns */
    int n_patterns;
} pre_info;

static int add_pattern(pre_info *p, const char *pattern, char *owned) {
    if (p->n_patterns == QMC_BPE_MAX_PATTERNS) {
        qmc_free(owned);
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: more than %d pre-tokenizer splits", p->label, QMC_BPE_MAX_PATTERNS);
    }
    p->owned[p->n_patterns] = owned;
    p->patterns[p->n_patterns++] = pattern;
    return QMC_OK;
}

/* A literal string as a PCRE2 pattern. */
static char *escape_literal(const char *s) {
    size_t n = strlen(s);
    char *out = qmc_alloc(2 * n + 1, 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\^$.[]|()?*+{}-/#", s[i])) out[k++] = '\\';
        out[k++] = s[i];
    }
    return out;
}

static int type_error(const pre_info *p, const char *what, const cJSON *node) {
    const char *type = qmc_json_get_str(node, "type");
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: %s '%.40s' is not supported", p->label, what, type ? type : "(no type)");
}

static int parse_pre(pre_info *p, const cJSON *node) {
    if (!node || cJSON_IsNull(node)) return QMC_OK;
    const char *type = qmc_json_get_str(node, "type");
    if (!type) return qmc_fail(QMC_ERR_FORMAT, "%s: pre_tokenizer without a type", p->label);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "pretokenizers");
        if (!cJSON_IsArray(list)) return qmc_fail(QMC_ERR_FORMAT, "%s: Sequence pre_tokenizer without \"pretokenizers\"", p->label);
        for (const cJSON *c = list->child; c; c = c->next) {
            int rc = parse_pre(p, c);
            if (rc) return rc;
        }
        return QMC_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        bool prefix = false, use_regex = true;
        int rc;
        if ((rc = qmc_json_get_bool(node, "add_prefix_space", p->label, &prefix)) < 0 ||
            (rc = qmc_json_get_bool(node, "use_regex", p->label, &use_regex)) < 0)
            return rc;
        if (prefix) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: ByteLevel add_prefix_space is not supported", p->label);
        p->byte_level = true;
        return use_regex ? add_pattern(p, qmc_bpe_regex_gpt2, NULL) : QMC_OK;
    }
    if (strcmp(type, "Split") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(node, "pattern");
        const char *behavior = qmc_json_get_str(node, "behavior");
        bool invert = false;
        int rc = qmc_json_get_bool(node, "invert", p->label, &invert);
        if (rc < 0) return rc;
        if (!behavior || strcmp(behavior, "Isolated") != 0 || invert)
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Split pre-tokenizer with behavior '%.20s'%s is not supported (Isolated)",
                            p->label, behavior ? behavior : "?", invert ? " inverted" : "");
        const char *re = qmc_json_get_str(pat, "Regex"), *lit = qmc_json_get_str(pat, "String");
        if (re) return add_pattern(p, re, NULL);
        if (lit) {
            char *esc = escape_literal(lit);
            return esc ? add_pattern(p, esc, esc) : QMC_ERR_NOMEM;
        }
        return qmc_fail(QMC_ERR_FORMAT, "%s: Split pre-tokenizer without a Regex or String pattern", p->label);
    }
    if (strcmp(type, "Digits") == 0) {
        bool individual = false;
        int rc = qmc_json_get_bool(node, "individual_digits", p->label, &individual);
        if (rc < 0) return rc;
        return add_pattern(p, individual ? "\\p{N}" : "\\p{N}+", NULL);
    }
    if (strcmp(type, "Metaspace") == 0) {
        const char *rep = qmc_json_get_str(node, "replacement"), *scheme = qmc_json_get_str(node, "prepend_scheme");
        bool prefix = true, split = false;
        int rc;
        if ((rc = qmc_json_get_bool(node, "add_prefix_space", p->label, &prefix)) < 0 ||
            (rc = qmc_json_get_bool(node, "split", p->label, &split)) < 0)
            return rc;
        if (rep && strcmp(rep, k_meta) != 0)
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Metaspace replacement other than U+2581 is not supported", p->label);
        if (split) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Metaspace with split=true is not supported", p->label);
        if (scheme) prefix = strcmp(scheme, "never") != 0;
        p->metaspace = true;
        p->add_space_prefix = prefix;
        return QMC_OK;
    }
    return type_error(p, "pre_tokenizer", node);
}

/* Normalizers: none, NFC (taken as the identity: see docs), or the Llama-2
 * pair Prepend("▁") + Replace(" ", "▁"). */
static int parse_normalizer(pre_info *p, const cJSON *node) {
    if (!node || cJSON_IsNull(node)) return QMC_OK;
    const char *type = qmc_json_get_str(node, "type");
    if (!type) return qmc_fail(QMC_ERR_FORMAT, "%s: normalizer without a type", p->label);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "normalizers");
        if (!cJSON_IsArray(list)) return qmc_fail(QMC_ERR_FORMAT, "%s: Sequence normalizer without \"normalizers\"", p->label);
        for (const cJSON *c = list->child; c; c = c->next) {
            int rc = parse_normalizer(p, c);
            if (rc) return rc;
        }
        return QMC_OK;
    }
    if (strcmp(type, "NFC") == 0) return QMC_OK;
    if (strcmp(type, "Prepend") == 0) {
        const char *s = qmc_json_get_str(node, "prepend");
        if (!s || strcmp(s, k_meta) != 0) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Prepend normalizer other than \"▁\"", p->label);
        p->metaspace = p->add_space_prefix = true;
        return QMC_OK;
    }
    if (strcmp(type, "Replace") == 0) {
        const char *from = qmc_json_get_str(cJSON_GetObjectItemCaseSensitive(node, "pattern"), "String");
        const char *to = qmc_json_get_str(node, "content");
        if (!from || !to || strcmp(from, " ") != 0 || strcmp(to, k_meta) != 0)
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Replace normalizer other than \" \" -> \"▁\"", p->label);
        p->metaspace = true;
        return QMC_OK;
    }
    return type_error(p, "normalizer", node);
}

/* One merge: "left right" or ["left", "right"]. */
static int parse_merge(const cJSON *m, int64_t i, const char *label, qmc_bpe_merge *out) {
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring;
        size_t n = strlen(s);
        const char *sp = n > 1 ? strchr(s + 1, ' ') : NULL;
        if (!sp) return qmc_fail(QMC_ERR_FORMAT, "%s: merge %lld ('%.40s') is not two pieces separated by a space", label, (long long)i, s);
        *out = (qmc_bpe_merge){s, sp + 1, (int32_t)(sp - s), (int32_t)(n - (size_t)(sp - s) - 1)};
        return QMC_OK;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
        const char *l = m->child->valuestring, *r = m->child->next->valuestring;
        *out = (qmc_bpe_merge){l, r, (int32_t)strlen(l), (int32_t)strlen(r)};
        return QMC_OK;
    }
    return qmc_fail(QMC_ERR_FORMAT, "%s: merge %lld is neither \"a b\" nor [\"a\", \"b\"]", label, (long long)i);
}

static int32_t find_piece(const qmc_tokenizer *t, const char *s) {
    return s ? qmc_strmap_get(&t->map, s, (uint32_t)strlen(s)) : -1;
}

/* Scores for an SPM vocabulary from merge ranks: a piece made by merge r gets
 * -r (earlier merges win), every other piece ranks below all of them. */
static void scores_from_merges(qmc_tokenizer *t, const qmc_bpe_merge *mg, int64_t n) {
    for (int32_t i = 0; i < t->n_vocab; i++) t->scores[i] = -(float)(n + i);
    char *cat = NULL;
    int64_t cap = 0;
    for (int64_t r = n - 1; r >= 0; r--) {
        int32_t id = qmc_bpe_merge_id(t, &mg[r], &cat, &cap);
        if (id >= 0) t->scores[id] = -(float)r;
    }
    qmc_free(cat);
}

/* The BOS of a TemplateProcessing post-processor whose single sequence starts with a special token. */
static const char *template_bos(const cJSON *pp) {
    const char *type = qmc_json_get_str(pp, "type");
    if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(pp, "processors");
        for (const cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c; c = c->next) {
            const char *b = template_bos(c);
            if (b) return b;
        }
        return NULL;
    }
    if (!type || strcmp(type, "TemplateProcessing") != 0) return NULL;
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    if (!cJSON_IsArray(single) || !single->child) return NULL;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(single->child, "SpecialToken");
    return qmc_json_get_str(st, "id");
}

/* The tokenizer of a parsed tokenizer.json. */
static int tok_from_json(const cJSON *root, const char *label, qmc_tokenizer **out) {
    *out = NULL;
    int rc = QMC_OK;
    pre_info pre = {.label = label};
    const char **pieces = NULL;
    int32_t *lens = NULL, *types = NULL;
    qmc_bpe_merge *mg = NULL;
    qmc_tokenizer *t = NULL;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const char *mtype = qmc_json_get_str(model, "type");
    if (!cJSON_IsObject(model) || !cJSON_IsObject(vocab)) {
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: no \"model\" with a \"vocab\" object", label);
        goto done;
    }
    if ((mtype && strcmp(mtype, "BPE") != 0) || !cJSON_IsArray(merges)) {
        rc = qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tokenizer model '%.20s' is not supported (BPE with merges)", label,
                      mtype ? mtype : "?");
        goto done;
    }
    if ((rc = parse_pre(&pre, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"))) ||
        (rc = parse_normalizer(&pre, cJSON_GetObjectItemCaseSensitive(root, "normalizer"))))
        goto done;
    bool byte_fallback = false;
    if ((rc = qmc_json_get_bool(model, "byte_fallback", label, &byte_fallback)) < 0) goto done;
    bool spm = !pre.byte_level && (byte_fallback || pre.metaspace);
    if (!pre.byte_level && !spm) {
        rc = qmc_fail(QMC_ERR_UNSUPPORTED, "%s: BPE without a ByteLevel pre-tokenizer or byte_fallback is not supported", label);
        goto done;
    }
    if (spm && pre.n_patterns) {
        rc = qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Split pre-tokenizers with a SentencePiece-style vocabulary are not supported", label);
        goto done;
    }
    /* ids: the vocabulary plus added tokens; the largest id sets the size */
    int64_t n = 0;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= MAX_VOCAB || e->valuedouble != (int)e->valuedouble) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: vocab entry '%.40s' has a bad id", label, e->string);
            goto done;
        }
        n = QMC_MAX(n, (int64_t)e->valuedouble + 1);
    }
    for (const cJSON *a = cJSON_IsArray(added) ? added->child : NULL; a; a = a->next) {
        int64_t id;
        int r = qmc_json_get_int(a, "id", label, 0, MAX_VOCAB - 1, &id);
        if (r <= 0 || !qmc_json_get_str(a, "content")) {
            rc = r < 0 ? r : qmc_fail(QMC_ERR_FORMAT, "%s: added token without id or content", label);
            goto done;
        }
        n = QMC_MAX(n, id + 1);
    }
    if (n == 0) {
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: empty vocabulary", label);
        goto done;
    }
    /* a few holes in the ids are allowed, not a size the file does not back */
    int64_t defined = cJSON_GetArraySize(vocab) + (cJSON_IsArray(added) ? cJSON_GetArraySize(added) : 0);
    if (n > defined + MAX_HOLES) {
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: token ids run up to %lld but only %lld tokens are defined", label, (long long)n - 1,
                      (long long)defined);
        goto done;
    }
    pieces = qmc_alloc((size_t)n, sizeof(char *));
    lens = qmc_alloc((size_t)n, sizeof(int32_t));
    types = qmc_alloc((size_t)n, sizeof(int32_t));
    char (*pad)[32] = NULL;
    if (!pieces || !lens || !types) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    for (const cJSON *e = vocab->child; e; e = e->next) {
        int32_t id = (int32_t)e->valuedouble;
        if (pieces[id]) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: id %d is given to both '%.40s' and '%.40s'", label, id, pieces[id], e->string);
            goto done;
        }
        pieces[id] = e->string;
        types[id] = QMC_TT_NORMAL;
        if (spm && strlen(e->string) == 6 && memcmp(e->string, "<0x", 3) == 0 && e->string[5] == '>') types[id] = QMC_TT_BYTE;
    }
    for (const cJSON *a = cJSON_IsArray(added) ? added->child : NULL; a; a = a->next) {
        int32_t id = (int32_t)cJSON_GetObjectItemCaseSensitive(a, "id")->valuedouble;
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(a, "special");
        pieces[id] = qmc_json_get_str(a, "content");
        types[id] = cJSON_IsTrue(special) ? QMC_TT_CONTROL : QMC_TT_USER;
    }
    int32_t n_pad = 0;
    for (int64_t i = 0; i < n; i++) n_pad += pieces[i] == NULL;
    pad = n_pad ? qmc_alloc((size_t)n_pad, sizeof *pad) : NULL;
    if (n_pad && !pad) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    n_pad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!pieces[i]) { /* a hole in the ids: a placeholder as llama.cpp writes */
            snprintf(pad[n_pad], sizeof pad[n_pad], "[PAD%lld]", (long long)i);
            pieces[i] = pad[n_pad++];
            types[i] = QMC_TT_UNUSED;
        }
        lens[i] = (int32_t)strlen(pieces[i]);
    }
    rc = qmc_tok_create(spm ? QMC_TOK_SPM : QMC_TOK_BPE, (int32_t)n, pieces, lens, NULL, types, &t);
    qmc_free(pad);
    if (rc) {
        qmc_error_prefix(rc, "%s", label);
        goto done;
    }
    int64_t n_merges = cJSON_GetArraySize(merges), i = 0;
    mg = qmc_alloc((size_t)n_merges + 1, sizeof(qmc_bpe_merge));
    if (!mg) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    for (const cJSON *m = merges->child; m; m = m->next, i++)
        if ((rc = parse_merge(m, i, label, &mg[i]))) goto done;
    t->unk_id = find_piece(t, qmc_json_get_str(model, "unk_token"));
    if (spm) {
        t->add_space_prefix = pre.add_space_prefix;
        scores_from_merges(t, mg, n_merges);
        if (t->unk_id >= 0) t->types[t->unk_id] = QMC_TT_UNKNOWN;
    } else {
        bool ignore = false;
        if ((rc = qmc_json_get_bool(model, "ignore_merges", label, &ignore)) < 0) goto done;
        if ((rc = qmc_bpe_init_patterns(t, mg, n_merges, pre.patterns, pre.n_patterns, ignore))) {
            qmc_error_prefix(rc, "%s", label);
            goto done;
        }
        const char *name = qmc_bpe_pre_name(t->bpe);
        snprintf(t->pre, sizeof t->pre, "%s", name ? name : "custom");
    }
    const char *bos = template_bos(cJSON_GetObjectItemCaseSensitive(root, "post_processor"));
    if (bos && find_piece(t, bos) >= 0) {
        t->bos_id = find_piece(t, bos);
        t->add_bos = true;
    }
    qmc_tok_guess_specials(t);
done:
    for (int k = 0; k < pre.n_patterns; k++) qmc_free(pre.owned[k]);
    qmc_free(pieces);
    qmc_free(lens);
    qmc_free(types);
    qmc_free(mg);
    if (rc) qmc_tok_free(t);
    else *out = t;
    return rc;
}

int qmc_tok_parse_hf(const char *json, size_t len, const char *label, qmc_tokenizer **out) {
    *out = NULL;
    cJSON *root = NULL;
    int rc = qmc_json_parse(json, len, label, &root);
    if (!rc) rc = tok_from_json(root, label, out);
    cJSON_Delete(root);
    return rc;
}

/* bos_token / eos_token / ...: a string or {"content": string}. */
static int32_t config_token(const qmc_tokenizer *t, const cJSON *cfg, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) ? find_piece(t, v->valuestring) : -1;
}

int qmc_tok_load_hf(const char *path, qmc_tokenizer **out) {
    *out = NULL;
    cJSON *root = NULL;
    int rc = qmc_json_read(path, TOKENIZER_JSON_MAX, &root);
    if (!rc) rc = tok_from_json(root, path, out);
    cJSON_Delete(root);
    if (rc) return rc;
    /* tokenizer_config.json next to it: special tokens and add_bos_token */
    char dir[4096], cfg_path[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    qmc_path_join(cfg_path, sizeof cfg_path, dir, "tokenizer_config.json");
    if (!qmc_file_exists(cfg_path)) return QMC_OK;
    cJSON *cfg = NULL;
    if ((rc = qmc_json_read(cfg_path, (size_t)64 << 20, &cfg))) goto fail;
    qmc_tokenizer *t = *out;
    int32_t id;
    if ((id = config_token(t, cfg, "bos_token")) >= 0) t->bos_id = id;
    if ((id = config_token(t, cfg, "eos_token")) >= 0) t->eos_id = id;
    if ((id = config_token(t, cfg, "unk_token")) >= 0) t->unk_id = id;
    if ((id = config_token(t, cfg, "pad_token")) >= 0) t->pad_id = id;
    bool b;
    if ((rc = qmc_json_get_bool(cfg, "add_bos_token", cfg_path, &b)) < 0) goto fail;
    if (rc == 1) t->add_bos = b;
    cJSON_Delete(cfg);
    return QMC_OK;
fail:
    cJSON_Delete(cfg);
    qmc_tok_free(*out);
    *out = NULL;
    return rc;
}

/* ---- writing --------------------------------------------------------------------- */

static bool utf8_valid(const char *s, int32_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (int32_t i = 0; i < n;) {
        unsigned c = p[i];
        int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 && c >= 0xc2 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 4 : 0;
        if (!len || i + len > n || c == 0) return false;
        for (int k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80) return false;
        i += len;
    }
    return true;
}

/* A piece as a NUL-terminated cJSON string (pieces are stored with lengths). */
static cJSON *piece_string(const qmc_tokenizer *t, int32_t id) {
    int32_t len;
    const char *p = qmc_tok_piece(t, id, &len);
    char small[256], *buf = len < (int32_t)sizeof small ? small : qmc_alloc((size_t)len + 1, 1);
    if (!buf) return NULL;
    memcpy(buf, p, (size_t)len);
    buf[len] = 0;
    cJSON *s = cJSON_CreateString(buf);
    if (buf != small) qmc_free(buf);
    return s;
}

static bool is_added(const qmc_tokenizer *t, int32_t id) {
    int32_t ty = t->types[id];
    return ty == QMC_TT_CONTROL || ty == QMC_TT_USER || ty == QMC_TT_UNKNOWN;
}

typedef struct { float score; int64_t seq; int32_t left, right; } spm_merge;

static int cmp_spm_merge(const void *a, const void *b) {
    const spm_merge *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_pair_ids(const void *a, const void *b) {
    const spm_merge *x = a, *y = b;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return x->right < y->right ? -1 : x->right > y->right;
}

static int utf8_char_len(unsigned char c) {
    return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
}

/* Merges of an SPM vocabulary, as transformers' SentencePieceExtractor: for
 * each piece (in id order) every split into two pieces at a character
 * boundary, ordered by the ids of the halves; then all of them stably sorted
 * by the piece's score, highest first. */
static int spm_merges(const qmc_tokenizer *t, spm_merge **out, int64_t *n_out) {
    int64_t n = 0, cap = 0;
    spm_merge *m = NULL;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        int32_t len;
        const char *p = qmc_tok_piece(t, id, &len);
        int64_t first = n;
        for (int32_t k = utf8_char_len((unsigned char)p[0]); k < len; k += utf8_char_len((unsigned char)p[k])) {
            int32_t l = qmc_strmap_get(&t->map, p, (uint32_t)k), r = qmc_strmap_get(&t->map, p + k, (uint32_t)(len - k));
            if (l < 0 || r < 0) continue;
            if (qmc_grow((void **)&m, &cap, n + 1, sizeof(spm_merge))) {
                qmc_free(m);
                return QMC_ERR_NOMEM;
            }
            m[n++] = (spm_merge){t->scores[id], 0, l, r};
        }
        if (n - first > 1) qsort(m + first, (size_t)(n - first), sizeof(spm_merge), cmp_pair_ids);
    }
    for (int64_t i = 0; i < n; i++) m[i].seq = i;
    if (n > 1) qsort(m, (size_t)n, sizeof(spm_merge), cmp_spm_merge);
    *out = m;
    *n_out = n;
    return QMC_OK;
}

static cJSON *obj_type(const char *type) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    return o;
}

static cJSON *byte_level(bool prefix, bool trim, bool regex) {
    cJSON *o = obj_type("ByteLevel");
    cJSON_AddBoolToObject(o, "add_prefix_space", prefix);
    cJSON_AddBoolToObject(o, "trim_offsets", trim);
    cJSON_AddBoolToObject(o, "use_regex", regex);
    return o;
}

static cJSON *string_pattern(const char *key, const char *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, key, s);
    return o;
}

static cJSON *bos_template(const qmc_tokenizer *t) {
    cJSON *bos = piece_string(t, t->bos_id);
    const char *b = bos ? bos->valuestring : "";
    cJSON *pp = obj_type("TemplateProcessing");
    for (int pair = 0; pair < 2; pair++) {
        cJSON *seq = cJSON_AddArrayToObject(pp, pair ? "pair" : "single");
        for (int k = 0; k <= pair; k++) {
            cJSON *st = cJSON_CreateObject(), *sq = cJSON_CreateObject();
            cJSON *sti = cJSON_AddObjectToObject(st, "SpecialToken");
            cJSON_AddStringToObject(sti, "id", b);
            cJSON_AddNumberToObject(sti, "type_id", k);
            cJSON *sqi = cJSON_AddObjectToObject(sq, "Sequence");
            cJSON_AddStringToObject(sqi, "id", k ? "B" : "A");
            cJSON_AddNumberToObject(sqi, "type_id", k);
            cJSON_AddItemToArray(seq, st);
            cJSON_AddItemToArray(seq, sq);
        }
    }
    cJSON *sp = cJSON_AddObjectToObject(pp, "special_tokens");
    cJSON *e = cJSON_AddObjectToObject(sp, b);
    cJSON_AddStringToObject(e, "id", b);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "ids"), cJSON_CreateNumber(t->bos_id));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "tokens"), cJSON_CreateString(b));
    cJSON_Delete(bos);
    return pp;
}

/* "left right", or null when a piece holds a space (then pairs are written as arrays). */
static cJSON *merge_item(const qmc_tokenizer *t, int32_t l, int32_t r, bool as_array) {
    cJSON *ls = piece_string(t, l), *rs = piece_string(t, r);
    if (!ls || !rs) {
        cJSON_Delete(ls);
        cJSON_Delete(rs);
        return NULL;
    }
    if (as_array) {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, ls);
        cJSON_AddItemToArray(a, rs);
        return a;
    }
    qmc_str s = {0};
    qmc_str_printf(&s, "%s %s", ls->valuestring, rs->valuestring);
    cJSON *o = s.failed ? NULL : cJSON_CreateString(s.s);
    qmc_str_free(&s);
    cJSON_Delete(ls);
    cJSON_Delete(rs);
    return o;
}

static bool has_space(const qmc_tokenizer *t, int32_t id) {
    int32_t len;
    const char *p = qmc_tok_piece(t, id, &len);
    return memchr(p, ' ', (size_t)len) != NULL;
}

static int build_json(const qmc_tokenizer *t, cJSON *root) {
    const bool spm = t->kind == QMC_TOK_SPM;
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (!is_added(t, id)) continue;
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", id);
        cJSON_AddItemToObject(a, "content", piece_string(t, id));
        cJSON_AddBoolToObject(a, "single_word", false);
        cJSON_AddBoolToObject(a, "lstrip", false);
        cJSON_AddBoolToObject(a, "rstrip", false);
        cJSON_AddBoolToObject(a, "normalized", false);
        cJSON_AddBoolToObject(a, "special", t->types[id] != QMC_TT_USER);
        cJSON_AddItemToArray(added, a);
    }
    if (spm) {
        cJSON *norm = obj_type("Sequence");
        cJSON *list = cJSON_AddArrayToObject(norm, "normalizers");
        if (t->add_space_prefix) {
            cJSON *p = obj_type("Prepend");
            cJSON_AddStringToObject(p, "prepend", k_meta);
            cJSON_AddItemToArray(list, p);
        }
        cJSON *r = obj_type("Replace");
        cJSON_AddItemToObject(r, "pattern", string_pattern("String", " "));
        cJSON_AddStringToObject(r, "content", k_meta);
        cJSON_AddItemToArray(list, r);
        cJSON_AddItemToObject(root, "normalizer", norm);
        cJSON_AddNullToObject(root, "pre_tokenizer");
    } else {
        cJSON_AddNullToObject(root, "normalizer");
        cJSON *seq = obj_type("Sequence");
        cJSON *list = cJSON_AddArrayToObject(seq, "pretokenizers");
        for (int i = 0; i < t->bpe->n_patterns; i++) {
            cJSON *sp = obj_type("Split");
            cJSON_AddItemToObject(sp, "pattern", string_pattern("Regex", t->bpe->patterns[i]));
            cJSON_AddStringToObject(sp, "behavior", "Isolated");
            cJSON_AddBoolToObject(sp, "invert", false);
            cJSON_AddItemToArray(list, sp);
        }
        cJSON_AddItemToArray(list, byte_level(false, true, false));
        cJSON_AddItemToObject(root, "pre_tokenizer", seq);
    }
    if (t->add_bos && t->bos_id >= 0) cJSON_AddItemToObject(root, "post_processor", bos_template(t));
    else if (!spm) cJSON_AddItemToObject(root, "post_processor", byte_level(true, false, true));
    else cJSON_AddNullToObject(root, "post_processor");
    if (spm) {
        cJSON *dec = obj_type("Sequence");
        cJSON *list = cJSON_AddArrayToObject(dec, "decoders");
        cJSON *r = obj_type("Replace");
        cJSON_AddItemToObject(r, "pattern", string_pattern("String", k_meta));
        cJSON_AddStringToObject(r, "content", " ");
        cJSON_AddItemToArray(list, r);
        cJSON_AddItemToArray(list, obj_type("ByteFallback"));
        cJSON_AddItemToArray(list, obj_type("Fuse"));
        if (t->add_space_prefix) {
            cJSON *s = obj_type("Strip");
            cJSON_AddStringToObject(s, "content", " ");
            cJSON_AddNumberToObject(s, "start", 1);
            cJSON_AddNumberToObject(s, "stop", 0);
            cJSON_AddItemToArray(list, s);
        }
        cJSON_AddItemToObject(root, "decoder", dec);
    } else cJSON_AddItemToObject(root, "decoder", byte_level(true, true, true));

    cJSON *model = obj_type("BPE");
    cJSON_AddNullToObject(model, "dropout");
    if (spm && t->unk_id >= 0) cJSON_AddItemToObject(model, "unk_token", piece_string(t, t->unk_id));
    else cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddNullToObject(model, "continuing_subword_prefix");
    cJSON_AddNullToObject(model, "end_of_word_suffix");
    cJSON_AddBoolToObject(model, "fuse_unk", spm);
    cJSON_AddBoolToObject(model, "byte_fallback", spm);
    cJSON_AddBoolToObject(model, "ignore_merges", !spm && t->bpe->ignore_merges);
    cJSON_AddItemToObject(root, "model", model);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (!spm && is_added(t, id)) continue; /* byte-level: special tokens live in added_tokens only */
        cJSON *p = piece_string(t, id);
        if (!p) return QMC_ERR_NOMEM;
        cJSON_AddItemToObject(vocab, p->valuestring, cJSON_CreateNumber(id));
        cJSON_Delete(p);
    }
    /* merges */
    spm_merge *sm = NULL;
    int64_t n_merges;
    if (spm) {
        int rc = spm_merges(t, &sm, &n_merges);
        if (rc) return rc;
    } else n_merges = t->bpe->n_merges;
    bool as_array = false;
    for (int64_t i = 0; i < n_merges && !as_array; i++) {
        int32_t l = spm ? sm[i].left : (int32_t)(t->bpe->pair_key[i] >> 32);
        int32_t r = spm ? sm[i].right : (int32_t)(t->bpe->pair_key[i] & 0xffffffffu);
        as_array = has_space(t, l) || has_space(t, r);
    }
    cJSON *merges = cJSON_AddArrayToObject(model, "merges");
    int rc = QMC_OK;
    for (int64_t i = 0; i < n_merges && !rc; i++) {
        int32_t l = spm ? sm[i].left : (int32_t)(t->bpe->pair_key[i] >> 32);
        int32_t r = spm ? sm[i].right : (int32_t)(t->bpe->pair_key[i] & 0xffffffffu);
        cJSON *it = merge_item(t, l, r, as_array);
        if (!it) rc = QMC_ERR_NOMEM;
        else cJSON_AddItemToArray(merges, it);
    }
    qmc_free(sm);
    return rc;
}

static int write_tokenizer_config(const qmc_tokenizer *t, const char *path) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "add_bos_token", t->add_bos);
    cJSON_AddBoolToObject(o, "add_eos_token", false);
    static const char *keys[4] = {"bos_token", "eos_token", "unk_token", "pad_token"};
    const int32_t ids[4] = {t->bos_id, t->eos_id, t->unk_id, t->pad_id};
    for (int i = 0; i < 4; i++) {
        if (ids[i] >= 0) cJSON_AddItemToObject(o, keys[i], piece_string(t, ids[i]));
        else cJSON_AddNullToObject(o, keys[i]);
    }
    cJSON_AddBoolToObject(o, "clean_up_tokenization_spaces", false);
    cJSON_AddStringToObject(o, "tokenizer_class", t->kind == QMC_TOK_SPM ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast");
    int rc = qmc_json_write(path, o);
    cJSON_Delete(o);
    return rc;
}

int qmc_tok_save_hf(const qmc_tokenizer *t, const char *dir) {
    char path[4096];
    qmc_path_join(path, sizeof path, dir, "tokenizer.json");
    if (t->kind == QMC_TOK_BPE && !t->bpe) return qmc_fail(QMC_ERR_STATE, "%s: BPE tokenizer without merges", path);
    for (int32_t id = 0; id < t->n_vocab; id++) {
        int32_t len;
        const char *p = qmc_tok_piece(t, id, &len);
        if (!utf8_valid(p, len))
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: token %d is not valid UTF-8 text; tokenizer.json cannot hold it", path, id);
    }
    cJSON *root = cJSON_CreateObject();
    int rc = root ? build_json(t, root) : QMC_ERR_NOMEM;
    if (!rc) rc = qmc_json_write(path, root);
    cJSON_Delete(root);
    if (rc) return rc;
    qmc_path_join(path, sizeof path, dir, "tokenizer_config.json");
    return write_tokenizer_config(t, path);
}
