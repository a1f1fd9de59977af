/* tokenizer_bpe.c — byte-level BPE (GPT-2, Llama-3, Qwen2).
 *
 * Encoding: special tokens are cut out of the raw text first (longest match,
 * leftmost); the rest is split by the pre-tokenizer regexes (PCRE2, JIT);
 * each piece's bytes become the characters of the GPT-2 byte map, i.e. the
 * vocabulary's byte tokens, and are merged by rank, lowest first and leftmost
 * among equals, with a heap over a linked list of symbols (O(n log n) per
 * piece).  Pieces seen before in the same call come from a cache.
 * Decoding maps each character of a piece back to its byte. */
#include <string.h>

#include "model/tokenizer_bpe.h"
#include "util/pqueue.h"
#include "util/util.h"

const char *const qmc_bpe_regex_gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char *const qmc_bpe_regex_llama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char *const qmc_bpe_regex_qwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* GGUF names of the pre-tokenizers (llama.cpp's tokenizer.ggml.pre); the first
 * name of each regex is the one written. */
static const struct { const char *name; const char *const *regex; bool ignore_merges; } k_pre[] = {
    {"gpt-2", &qmc_bpe_regex_gpt2, false},      {"default", &qmc_bpe_regex_gpt2, false},
    {"gpt2", &qmc_bpe_regex_gpt2, false},       {"llama-bpe", &qmc_bpe_regex_llama3, true},
    {"llama3", &qmc_bpe_regex_llama3, true},    {"llama-v3", &qmc_bpe_regex_llama3, true},
    {"qwen2", &qmc_bpe_regex_qwen2, false},
};

/* ---- set-up -------------------------------------------------------------------- */

static int utf8_put(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* Decode one UTF-8 character at s[0..n); *cp = -1 for an invalid sequence (1 byte). */
static int utf8_get(const unsigned char *s, size_t n, int32_t *cp) {
    unsigned c = s[0];
    int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || (size_t)len > n) {
        *cp = -1;
        return 1;
    }
    uint32_t v = len == 1 ? c : c & (0x7fu >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = v << 6 | (s[i] & 0x3f);
    }
    *cp = (int32_t)v;
    return len;
}

/* bytes_to_unicode() of GPT-2's encoder.py: printable Latin-1 bytes stand for
 * themselves, the other 68 bytes for U+0100.. in increasing byte order. */
static void byte_map(struct qmc_bpe *b) {
    int n = 0;
    for (int i = 0; i < 512; i++) b->cp_byte[i] = -1;
    for (int c = 0; c < 256; c++) {
        bool printable = (c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) || (c >= 0xae && c <= 0xff);
        b->byte_cp[c] = (uint16_t)(printable ? c : 256 + n++);
        b->cp_byte[b->byte_cp[c]] = (int16_t)c;
    }
}

int qmc_bpe_byte_char(const struct qmc_bpe *b, uint8_t byte, char out[4]) { return utf8_put(b->byte_cp[byte], out); }

void qmc_bpe_free(struct qmc_bpe *b) {
    if (!b) return;
    qmc_free(b->pair_key);
    qmc_free(b->merge_result);
    qmc_strmap_free(&b->pair_rank);
    for (int i = 0; i < b->n_patterns; i++) {
        qmc_free(b->patterns[i]);
        pcre2_code_free(b->re[i]);
    }
    qmc_free(b->special_ids);
    qmc_free(b);
}

static int compile_pattern(struct qmc_bpe *b, const char *pattern) {
    int err;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        return qmc_fail(QMC_ERR_FORMAT, "pre-tokenizer regex does not compile at offset %zu: %s", (size_t)at, (char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter is used if JIT is unavailable */
    b->re[b->n_patterns] = re;
    b->patterns[b->n_patterns] = qmc_strdup(pattern);
    b->n_patterns++;
    return b->patterns[b->n_patterns - 1] ? QMC_OK : QMC_ERR_NOMEM;
}

static bool is_special(const qmc_tokenizer *t, int32_t id) {
    return (t->types[id] == QMC_TT_CONTROL || t->types[id] == QMC_TT_USER) && t->piece_len[id] > 0;
}

/* Special tokens grouped by first byte, longest first within a group. */
static _Thread_local const qmc_tokenizer *g_sort_tok; /* qsort has no user pointer */
static int cmp_special(const void *a, const void *b) {
    const qmc_tokenizer *t = g_sort_tok;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    unsigned char cx = (unsigned char)t->arena[t->piece_off[x]], cy = (unsigned char)t->arena[t->piece_off[y]];
    if (cx != cy) return cx < cy ? -1 : 1;
    if (t->piece_len[x] != t->piece_len[y]) return t->piece_len[x] > t->piece_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int index_specials(qmc_tokenizer *t, struct qmc_bpe *b) {
    int32_t n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) n += is_special(t, i);
    b->special_ids = qmc_alloc((size_t)n + 1, sizeof(int32_t));
    if (!b->special_ids) return QMC_ERR_NOMEM;
    n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (is_special(t, i)) b->special_ids[n++] = i;
    g_sort_tok = t;
    qsort(b->special_ids, (size_t)n, sizeof(int32_t), cmp_special);
    int32_t k = 0;
    for (int c = 0; c <= 256; c++) {
        b->special_start[c] = k;
        while (c < 256 && k < n && (unsigned char)t->arena[t->piece_off[b->special_ids[k]]] == c) k++;
    }
    return QMC_OK;
}

static int32_t piece_id(const qmc_tokenizer *t, const char *s, int32_t len) {
    return qmc_strmap_get(&t->map, s, (uint32_t)len);
}

int32_t qmc_bpe_merge_id(const qmc_tokenizer *t, const qmc_bpe_merge *m, char **buf, int64_t *cap) {
    int64_t need = (int64_t)m->left_len + m->right_len;
    if (need > INT32_MAX || qmc_grow((void **)buf, cap, need, 1)) return -1;
    memcpy(*buf, m->left, (size_t)m->left_len);
    memcpy(*buf + m->left_len, m->right, (size_t)m->right_len);
    return piece_id(t, *buf, (int32_t)need);
}

int qmc_bpe_init_patterns(qmc_tokenizer *t, const qmc_bpe_merge *merges, int64_t n_merges, const char *const *patterns,
                          int n_patterns, bool ignore_merges) {
    if (n_patterns > QMC_BPE_MAX_PATTERNS)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%d pre-tokenizer regexes (at most %d)", n_patterns, QMC_BPE_MAX_PATTERNS);
    if (n_merges < 0 || n_merges > INT32_MAX) return qmc_fail(QMC_ERR_FORMAT, "bad merge count %lld", (long long)n_merges);
    struct qmc_bpe *b = qmc_alloc(1, sizeof *b);
    if (!b) return QMC_ERR_NOMEM;
    byte_map(b);
    b->ignore_merges = ignore_merges;
    b->pair_key = qmc_alloc((size_t)n_merges + 1, sizeof(uint64_t));
    b->merge_result = qmc_alloc((size_t)n_merges + 1, sizeof(int32_t));
    char *cat = NULL;
    int rc = b->pair_key && b->merge_result && !qmc_strmap_init(&b->pair_rank, (uint64_t)n_merges) ? QMC_OK : QMC_ERR_NOMEM;
    for (int c = 0; c < 256 && !rc; c++) {
        char u[4];
        b->byte_ids[c] = piece_id(t, u, utf8_put(b->byte_cp[c], u));
    }
    int64_t cat_cap = 0;
    for (int64_t i = 0; i < n_merges && !rc; i++) {
        const qmc_bpe_merge *mg = &merges[i];
        int32_t l = piece_id(t, mg->left, mg->left_len), r = piece_id(t, mg->right, mg->right_len);
        int32_t res = qmc_bpe_merge_id(t, mg, &cat, &cat_cap);
        if (l < 0 || r < 0 || res < 0) {
            rc = qmc_fail(QMC_ERR_FORMAT, "merge %lld ('%.*s' '%.*s') uses a piece that is not in the vocabulary", (long long)i,
                          (int)QMC_MIN(mg->left_len, 40), mg->left, (int)QMC_MIN(mg->right_len, 40), mg->right);
            break;
        }
        b->pair_key[i] = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
        b->merge_result[i] = res;
        b->n_merges = i + 1;
        /* a pair listed twice keeps its first (lowest) rank */
        if (qmc_strmap_get(&b->pair_rank, (const char *)&b->pair_key[i], 8) < 0)
            rc = qmc_strmap_put(&b->pair_rank, (const char *)&b->pair_key[i], 8, (int32_t)i);
    }
    qmc_free(cat);
    for (int i = 0; i < n_patterns && !rc; i++) rc = compile_pattern(b, patterns[i]);
    if (!rc) rc = index_specials(t, b);
    if (rc) {
        qmc_bpe_free(b);
        return rc;
    }
    if (t->bpe) qmc_bpe_free(t->bpe);
    t->bpe = b;
    return QMC_OK;
}

int qmc_bpe_init(qmc_tokenizer *t, const char *const *merges, const int32_t *merge_lens, int64_t n_merges,
                 const char *pre) {
    const char *regex = NULL;
    bool ignore = false;
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_pre) && !regex; i++)
        if (strcmp(pre, k_pre[i].name) == 0) regex = *k_pre[i].regex, ignore = k_pre[i].ignore_merges;
    if (!regex) {
        /* a bare name (letters, digits, '-', '_', '.') that qmc does not know */
        if (strspn(pre, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(pre))
            return qmc_fail(QMC_ERR_UNSUPPORTED, "BPE pre-tokenizer '%s' is not supported (gpt-2, llama-bpe, qwen2)", pre);
        regex = pre;
    }
    if (n_merges < 0 || n_merges > INT32_MAX) return qmc_fail(QMC_ERR_FORMAT, "bad merge count %lld", (long long)n_merges);
    qmc_bpe_merge *mg = qmc_alloc((size_t)n_merges + 1, sizeof(qmc_bpe_merge));
    if (!mg) return QMC_ERR_NOMEM;
    int rc = QMC_OK;
    for (int64_t i = 0; i < n_merges && !rc; i++) {
        /* "left right", split at the first space after the first byte (as llama.cpp) */
        const char *s = merges[i], *sp = merge_lens[i] > 1 ? memchr(s + 1, ' ', (size_t)merge_lens[i] - 1) : NULL;
        if (!sp) {
            rc = qmc_fail(QMC_ERR_FORMAT, "merge %lld ('%.*s') is not two pieces separated by a space", (long long)i,
                          (int)QMC_MIN(merge_lens[i], 40), s);
            break;
        }
        mg[i] = (qmc_bpe_merge){s, sp + 1, (int32_t)(sp - s), (int32_t)(merge_lens[i] - (sp - s) - 1)};
    }
    if (!rc) rc = qmc_bpe_init_patterns(t, mg, n_merges, &regex, 1, ignore);
    qmc_free(mg);
    return rc;
}

const char *qmc_bpe_pre_name(const struct qmc_bpe *b) {
    if (b->n_patterns != 1) return NULL;
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_pre); i++)
        if (strcmp(b->patterns[0], *k_pre[i].regex) == 0 && b->ignore_merges == k_pre[i].ignore_merges) return k_pre[i].name;
    return NULL;
}

/* ---- encoding ------------------------------------------------------------------- */

typedef struct { int32_t id, prev, next; } bsym; /* one symbol of a piece being merged */

typedef struct {
    const qmc_tokenizer *t;
    const struct qmc_bpe *b;
    qmc_bpe_piece_fn piece_fn;    /* pre-tokenization only: pieces go here instead */
    void *piece_user;
    int32_t *out;                 /* tokens so far */
    int64_t n, cap;
    bsym *sym;                    /* [sym_cap] symbols of the current piece */
    int64_t sym_cap;
    qmc_pqueue heap;              /* candidate merges: (-rank, left symbol, pair key) */
    char *mapped;                 /* the piece in the byte map's alphabet (ignore_merges) */
    int64_t mapped_cap;
    pcre2_match_data *md;
    qmc_strmap cache_map;         /* piece bytes (in the caller's text) -> cache entry */
    struct { int64_t off; int32_t len; } *cache; /* [entry] its tokens: cache_tok[off, off+len) */
    int64_t cache_entries, cache_entry_cap;
    int32_t *cache_tok;
    int64_t cache_tok_n, cache_tok_cap;
} enc_state;

#define CACHE_MAX_PIECE 64        /* longer pieces are not cached */
#define CACHE_MAX_ENTRIES (1 << 20)

static int emit(enc_state *s, int32_t id) {
    int rc = qmc_grow((void **)&s->out, &s->cap, s->n + 1, sizeof(int32_t));
    if (rc) return rc;
    s->out[s->n++] = id;
    return QMC_OK;
}

/* Queue the merge of symbol `left` with its successor, if there is one. */
static int try_pair(enc_state *s, int32_t left) {
    if (left < 0 || s->sym[left].next < 0) return QMC_OK;
    uint64_t key = (uint64_t)(uint32_t)s->sym[left].id << 32 | (uint32_t)s->sym[s->sym[left].next].id;
    int32_t rank = qmc_strmap_get(&s->b->pair_rank, (const char *)&key, 8);
    return rank < 0 ? QMC_OK : qmc_pq_push(&s->heap, (qmc_pq_item){-(double)rank, left, key});
}

/* BPE of one pre-tokenized piece, tokens appended to s->out. */
static int merge_piece(enc_state *s, const unsigned char *p, int64_t len) {
    const struct qmc_bpe *b = s->b;
    int rc;
    if (b->ignore_merges) {
        if ((rc = qmc_grow((void **)&s->mapped, &s->mapped_cap, 2 * len + 1, 1))) return rc;
        int64_t ml = 0;
        for (int64_t i = 0; i < len; i++) ml += qmc_bpe_byte_char(b, p[i], s->mapped + ml);
        int32_t id = ml <= INT32_MAX ? piece_id(s->t, s->mapped, (int32_t)ml) : -1;
        if (id >= 0) return emit(s, id);
    }
    if ((rc = qmc_grow((void **)&s->sym, &s->sym_cap, len, sizeof(bsym)))) return rc;
    for (int64_t i = 0; i < len; i++) {
        int32_t id = b->byte_ids[p[i]];
        if (id < 0) id = s->t->unk_id;
        if (id < 0) return qmc_fail(QMC_ERR_FORMAT, "byte 0x%02x has no token in this vocabulary", p[i]);
        s->sym[i] = (bsym){id, (int32_t)i - 1, i + 1 < len ? (int32_t)i + 1 : -1};
    }
    s->heap.n = 0;
    for (int64_t i = 0; i + 1 < len; i++)
        if ((rc = try_pair(s, (int32_t)i))) return rc;
    while (s->heap.n > 0) {
        qmc_pq_item top = qmc_pq_pop(&s->heap);
        int32_t left = (int32_t)top.pos;
        bsym *L = &s->sym[left];
        /* stale unless the same two symbols are still neighbours */
        if (L->id < 0 || L->next < 0 || ((uint64_t)(uint32_t)L->id << 32 | (uint32_t)s->sym[L->next].id) != top.aux)
            continue;
        bsym *R = &s->sym[L->next];
        L->id = b->merge_result[(int64_t)-top.pri];
        L->next = R->next;
        if (R->next >= 0) s->sym[R->next].prev = left;
        R->id = -1;
        if ((rc = try_pair(s, L->prev)) || (rc = try_pair(s, left))) return rc;
    }
    for (int32_t i = len ? 0 : -1; i >= 0; i = s->sym[i].next)
        if ((rc = emit(s, s->sym[i].id))) return rc;
    return QMC_OK;
}

/* A piece through the cache. */
static int encode_piece(enc_state *s, const char *p, int64_t len) {
    if (len <= 0) return QMC_OK;
    bool cacheable = len <= CACHE_MAX_PIECE && s->cache_entries < CACHE_MAX_ENTRIES;
    int rc;
    if (cacheable) {
        int32_t e = qmc_strmap_get(&s->cache_map, p, (uint32_t)len);
        if (e >= 0) {
            if ((rc = qmc_grow((void **)&s->out, &s->cap, s->n + s->cache[e].len, sizeof(int32_t)))) return rc;
            memcpy(s->out + s->n, s->cache_tok + s->cache[e].off, (size_t)s->cache[e].len * sizeof(int32_t));
            s->n += s->cache[e].len;
            return QMC_OK;
        }
    }
    int64_t first = s->n;
    if ((rc = merge_piece(s, (const unsigned char *)p, len)) || !cacheable) return rc;
    int64_t k = s->n - first, e = s->cache_entries;
    if ((rc = qmc_grow((void **)&s->cache_tok, &s->cache_tok_cap, s->cache_tok_n + k, sizeof(int32_t))) ||
        (rc = qmc_grow((void **)&s->cache, &s->cache_entry_cap, e + 1, sizeof *s->cache)))
        return rc;
    memcpy(s->cache_tok + s->cache_tok_n, s->out + first, (size_t)k * sizeof(int32_t));
    s->cache[e].off = s->cache_tok_n;
    s->cache[e].len = (int32_t)k;
    s->cache_tok_n += k;
    s->cache_entries++;
    return qmc_strmap_put(&s->cache_map, p, (uint32_t)len, (int32_t)e);
}

/* Split seg[0, len) by regex `level` (matches and the gaps between them are
 * pieces) and pass each piece to the next level; after the last level, encode
 * it.  Each piece is matched on its own, as Hugging Face does. */
static int split(enc_state *s, pcre2_match_data **md, int level, const char *seg, int64_t len) {
    if (level == s->b->n_patterns)
        return s->piece_fn ? s->piece_fn(s->piece_user, seg, (size_t)len, -1) : encode_piece(s, seg, len);
    const pcre2_code *re = s->b->re[level];
    int64_t pos = 0;
    int rc = QMC_OK;
    while (pos < len && !rc) {
        int m = pcre2_match(re, (PCRE2_SPTR)seg, (PCRE2_SIZE)len, (PCRE2_SIZE)pos, 0, md[level], NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(m, msg, sizeof msg);
            /* e.g. a hostile regex hitting PCRE2's match limit: the tokenizer file's fault */
            return qmc_fail(QMC_ERR_FORMAT, "pre-tokenizer regex failed: %s", (char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md[level]);
        int64_t ms = (int64_t)ov[0], me = (int64_t)ov[1];
        if (me == ms) { /* an empty match: the next character stands alone */
            int32_t cp;
            me = ms + utf8_get((const unsigned char *)seg + ms, (size_t)(len - ms), &cp);
        }
        if (ms > pos) rc = split(s, md, level + 1, seg + pos, ms - pos); /* the gap before the match */
        if (!rc) rc = split(s, md, level + 1, seg + ms, me - ms);
        pos = me;
    }
    if (!rc && pos < len) rc = split(s, md, level + 1, seg + pos, len - pos);
    return rc;
}

/* The longest special token starting at text[i], or -1. */
static int32_t special_at(const qmc_tokenizer *t, const struct qmc_bpe *b, const char *text, size_t len, size_t i) {
    unsigned char c = (unsigned char)text[i];
    for (int32_t k = b->special_start[c]; k < b->special_start[c + 1]; k++) {
        int32_t id = b->special_ids[k];
        size_t pl = (size_t)t->piece_len[id];
        if (pl <= len - i && memcmp(text + i, t->arena + t->piece_off[id], pl) == 0) return id;
    }
    return -1;
}

/* Cut out special tokens, split the rest, encode (or report) every piece. */
static int run(enc_state *s, const char *text, size_t len) {
    const qmc_tokenizer *t = s->t;
    const struct qmc_bpe *b = s->b;
    pcre2_match_data *md[QMC_BPE_MAX_PATTERNS] = {0};
    int rc = QMC_OK;
    for (int i = 0; i < b->n_patterns && !rc; i++)
        if (!(md[i] = pcre2_match_data_create_from_pattern(b->re[i], NULL))) rc = QMC_ERR_NOMEM;
    size_t seg = 0;
    for (size_t i = 0; i < len && !rc;) {
        unsigned char c = (unsigned char)text[i];
        int32_t sp = b->special_start[c] < b->special_start[c + 1] ? special_at(t, b, text, len, i) : -1;
        if (sp < 0) {
            i++;
            continue;
        }
        if (i > seg) rc = split(s, md, 0, text + seg, (int64_t)(i - seg));
        if (!rc) rc = s->piece_fn ? s->piece_fn(s->piece_user, text + i, (size_t)t->piece_len[sp], sp) : emit(s, sp);
        i += (size_t)t->piece_len[sp];
        seg = i;
    }
    if (!rc && seg < len) rc = split(s, md, 0, text + seg, (int64_t)(len - seg));
    for (int i = 0; i < b->n_patterns; i++) pcre2_match_data_free(md[i]);
    return rc;
}

int qmc_bpe_pretokenize(const qmc_tokenizer *t, const char *text, size_t len, qmc_bpe_piece_fn fn, void *user) {
    if (!t->bpe) return qmc_fail(QMC_ERR_STATE, "BPE tokenizer without merges");
    enc_state s = {.t = t, .b = t->bpe, .piece_fn = fn, .piece_user = user};
    return run(&s, text, len);
}

int qmc_tok_encode_bpe(const qmc_tokenizer *t, const char *text, size_t len, int32_t **out, int64_t *n) {
    *out = NULL;
    *n = 0;
    if (!t->bpe) return qmc_fail(QMC_ERR_STATE, "BPE tokenizer without merges");
    enc_state s = {.t = t, .b = t->bpe};
    int rc = qmc_strmap_init(&s.cache_map, 4096);
    if (!rc) rc = run(&s, text, len);
    qmc_free(s.sym);
    qmc_pq_free(&s.heap);
    qmc_free(s.mapped);
    qmc_strmap_free(&s.cache_map);
    qmc_free(s.cache);
    qmc_free(s.cache_tok);
    if (rc) {
        qmc_free(s.out);
        return rc;
    }
    if (!s.out && !(s.out = qmc_alloc(1, sizeof(int32_t)))) return QMC_ERR_NOMEM;
    *out = s.out;
    *n = s.n;
    return QMC_OK;
}

/* ---- decoding -------------------------------------------------------------------- */

int qmc_tok_decode_bpe(const qmc_tokenizer *t, int32_t tok, char *buf, int cap) {
    int32_t len;
    const unsigned char *p = (const unsigned char *)qmc_tok_piece(t, tok, &len);
    int32_t type = t->types[tok];
    if (type == QMC_TT_CONTROL || type == QMC_TT_UNUSED) return 0;
    int w = 0;
    if (type == QMC_TT_USER || !t->bpe) { /* added tokens are stored as raw text */
        w = (int)QMC_MIN(len, cap);
        memcpy(buf, p, (size_t)w);
        return w;
    }
    for (int32_t i = 0; i < len && w < cap;) {
        int32_t cp;
        int k = utf8_get(p + i, (size_t)(len - i), &cp);
        if (cp >= 0 && cp < 512 && t->bpe->cp_byte[cp] >= 0) buf[w++] = (char)t->bpe->cp_byte[cp];
        else /* not a byte-map character: copy it as it is */
            for (int j = 0; j < k && w < cap; j++) buf[w++] = (char)p[i + j];
        i += k;
    }
    return w;
}

/* ---- GGUF ------------------------------------------------------------------------ */

int qmc_bpe_to_gguf(const qmc_tokenizer *t, gguf_writer *w) {
    const struct qmc_bpe *b = t->bpe;
    if (!b) return qmc_fail(QMC_ERR_STATE, "BPE tokenizer without merges");
    const char *name = qmc_bpe_pre_name(b);
    if (!name)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "this BPE pre-tokenizer (%d regexes, first '%.60s') has no GGUF tokenizer.ggml.pre name",
                        b->n_patterns, b->n_patterns ? b->patterns[0] : "");
    /* a name given by the file (e.g. "llama3") is kept if it means the same */
    const char *pre = name;
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_pre); i++)
        if (strcmp(t->pre, k_pre[i].name) == 0 && strcmp(*k_pre[i].regex, b->patterns[0]) == 0 &&
            k_pre[i].ignore_merges == b->ignore_merges)
            pre = k_pre[i].name;
    char **strs = qmc_alloc((size_t)b->n_merges + 1, sizeof(char *));
    uint64_t *lens = qmc_alloc((size_t)b->n_merges + 1, sizeof(uint64_t));
    int rc = strs && lens ? QMC_OK : QMC_ERR_NOMEM;
    for (int64_t i = 0; i < b->n_merges && !rc; i++) {
        int32_t l = (int32_t)(b->pair_key[i] >> 32), r = (int32_t)(b->pair_key[i] & 0xffffffffu), ll, rl;
        const char *lp = qmc_tok_piece(t, l, &ll), *rp = qmc_tok_piece(t, r, &rl);
        strs[i] = qmc_alloc((size_t)ll + (size_t)rl + 2, 1);
        if (!strs[i]) {
            rc = QMC_ERR_NOMEM;
            break;
        }
        memcpy(strs[i], lp, (size_t)ll);
        strs[i][ll] = ' ';
        memcpy(strs[i] + ll + 1, rp, (size_t)rl);
        lens[i] = (uint64_t)(ll + rl + 1);
    }
    if (!rc) rc = gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)strs, lens, (uint64_t)b->n_merges);
    if (!rc) rc = gguf_set_str(w, "tokenizer.ggml.pre", pre);
    for (int64_t i = 0; strs && i < b->n_merges; i++) qmc_free(strs[i]);
    qmc_free(strs);
    qmc_free(lens);
    return rc;
}
