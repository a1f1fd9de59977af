/* test_bpe.c — byte-level BPE and tokenizer.json: pre-tokenizer splits worked
 * out by hand, a hand-made tokenizer.json with hand-computed encodings, a
 * BPE trained here on the shared texts checked against a slow reference
 * encoder and round-tripped through tokenizer.json and GGUF, SentencePiece
 * vocabularies through tokenizer.json, and bad files. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tokenizer_bpe.h"
#include "testutil.h"
#include "util/pqueue.h"

static const char *k_gpt2_re = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char *k_llama3_re = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *k_qwen2_re = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* ---- GPT-2 byte map, written out from encoder.py's bytes_to_unicode ----------- */

static int byte_char(int b, char out[4]) {
    static int cp[256];
    if (!cp['!']) {
        int n = 0;
        for (int c = 0; c < 256; c++)
            cp[c] = ((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255)) ? c : 256 + n++;
    }
    int v = cp[b];
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    out[0] = (char)(0xc0 | (v >> 6));
    out[1] = (char)(0x80 | (v & 0x3f));
    return 2;
}

static char *read_text(const char *path, size_t max, size_t *len) {
    char *buf = NULL;
    assert_int_equal(qmc_read_file(path, (size_t)64 << 20, &buf, len), 0);
    if (*len > max) {
        /* cut at a line end so no character is split */
        size_t k = max;
        while (k > 0 && buf[k - 1] != '\n') k--;
        *len = k ? k : max;
        buf[*len] = 0;
    }
    return buf;
}

/* A BPE tokenizer from tokenizer.json text (must load). */
static qmc_tokenizer *parse_json(const char *json) {
    qmc_tokenizer *t = NULL;
    int rc = qmc_tok_parse_hf(json, strlen(json), "test.json", &t);
    if (rc) fail_msg("tokenizer.json: %s", qmc_errmsg());
    return t;
}

/* A byte-only vocabulary (256 byte tokens + one special) with the given pre-tokenizer JSON. */
static char *base_json(const char *pre_tokenizer, const char *extra_model) {
    cJSON *root = cJSON_CreateObject();
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    cJSON *sp = cJSON_CreateObject();
    cJSON_AddNumberToObject(sp, "id", 256);
    cJSON_AddStringToObject(sp, "content", "<|endoftext|>");
    cJSON_AddBoolToObject(sp, "special", true);
    cJSON_AddItemToArray(added, sp);
    cJSON_AddItemToObject(root, "pre_tokenizer", cJSON_Parse(pre_tokenizer));
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int b = 0; b < 256; b++) {
        char u[4] = {0};
        byte_char(b, u);
        cJSON_AddNumberToObject(vocab, u, b);
    }
    cJSON_AddArrayToObject(model, "merges");
    if (extra_model) cJSON_AddItemToObject(model, "ignore_merges", cJSON_CreateBool(1));
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static char *split_pre(const char *regex) {
    cJSON *seq = cJSON_CreateObject();
    cJSON_AddStringToObject(seq, "type", "Sequence");
    cJSON *list = cJSON_AddArrayToObject(seq, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex", regex);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(list, split);
    cJSON_AddItemToArray(list, cJSON_Parse("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}"));
    char *s = cJSON_PrintUnformatted(seq);
    cJSON_Delete(seq);
    return s;
}

static const char *k_gpt2_pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}";

typedef enum { PRE_GPT2, PRE_LLAMA3, PRE_QWEN2 } pre_kind;

static qmc_tokenizer *base_tokenizer(pre_kind k) {
    char *pre = k == PRE_GPT2 ? NULL : split_pre(k == PRE_LLAMA3 ? k_llama3_re : k_qwen2_re);
    char *json = base_json(pre ? pre : k_gpt2_pre, k == PRE_LLAMA3 ? "ignore" : NULL);
    qmc_tokenizer *t = parse_json(json);
    free(pre);
    free(json);
    assert_string_equal(t->pre, k == PRE_GPT2 ? "gpt-2" : k == PRE_LLAMA3 ? "llama-bpe" : "qwen2");
    assert_string_equal(t->bpe->patterns[0], k == PRE_GPT2 ? k_gpt2_re : k == PRE_LLAMA3 ? k_llama3_re : k_qwen2_re);
    return t;
}

/* ---- the merge queue ------------------------------------------------------------ */

static int cmp_item(const void *a, const void *b) {
    const qmc_pq_item *x = a, *y = b;
    if (x->pri != y->pri) return x->pri > y->pri ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Pops come out as a sort by (priority desc, position asc) would order them. */
static void test_pqueue(void **state) {
    enum { N = 5000 };
    static qmc_pq_item items[N];
    qmc_pqueue q = {0};
    for (int i = 0; i < N; i++) {
        items[i] = (qmc_pq_item){(double)(qmc_rand_u64(7, (uint64_t)i) % 50), (int64_t)(qmc_rand_u64(8, (uint64_t)i) % 100000), (uint64_t)i};
        assert_int_equal(qmc_pq_push(&q, items[i]), 0);
    }
    qsort(items, N, sizeof *items, cmp_item);
    for (int i = 0; i < N; i++) {
        qmc_pq_item it = qmc_pq_pop(&q);
        assert_true(it.pri == items[i].pri && it.pos == items[i].pos);
    }
    assert_int_equal(q.n, 0);
    qmc_pq_free(&q);
}

/* ---- pre-tokenizer known answers ---------------------------------------------- */

typedef struct { char pieces[64][48]; int n; } piece_list;

static int collect(void *user, const char *p, size_t len, int32_t special) {
    piece_list *l = user;
    if (l->n == 64 || len >= 46) return -1;
    if (special >= 0) snprintf(l->pieces[l->n++], 48, "<%d>", special);
    else {
        memcpy(l->pieces[l->n], p, len);
        l->pieces[l->n++][len] = 0;
    }
    return 0;
}

/* Pieces of text joined by '|' (specials as <id>). */
static void expect_split(const qmc_tokenizer *t, const char *text, const char *expected) {
    piece_list l = {0};
    assert_int_equal(qmc_bpe_pretokenize(t, text, strlen(text), collect, &l), 0);
    char got[2048] = "";
    for (int i = 0; i < l.n; i++) {
        if (i) strcat(got, "|");
        strcat(got, l.pieces[i]);
    }
    if (strcmp(got, expected) != 0) fail_msg("split of '%s':\n got      '%s'\n expected '%s'", text, got, expected);
}

static void test_pretokenizer_splits(void **state) {
    qmc_tokenizer *g = base_tokenizer(PRE_GPT2), *l = base_tokenizer(PRE_LLAMA3), *q = base_tokenizer(PRE_QWEN2);
    const char *text = "Hello world's 12345 test\n\nfoo  bar";
    /* GPT-2: digits stay together behind an optional space; "\s+(?!\S)" leaves the
     * last whitespace character to start the next word */
    expect_split(g, text, "Hello| world|'s| 12345| test|\n|\n|foo| | bar");
    /* Llama-3: digit groups of at most 3, no space in front; newlines kept together */
    expect_split(l, text, "Hello| world|'s| |123|45| test|\n\n|foo| | bar");
    /* Qwen2: single digits */
    expect_split(q, text, "Hello| world|'s| |1|2|3|4|5| test|\n\n|foo| | bar");
    /* contractions: GPT-2 is case-sensitive, Llama-3 and Qwen2 are not */
    expect_split(g, "DON'T don't", "DON|'|T| don|'t");
    expect_split(l, "DON'T don't", "DON|'T| don|'t");
    /* a punctuation character sticks to the letters after it in Llama-3 */
    expect_split(g, "(hello) x", "(|hello|)| x");
    expect_split(l, "(hello) x", "(hello|)| x");
    /* non-ASCII letters are letters */
    expect_split(g, "café naïve Ωmega", "café| naïve| Ωmega");
    expect_split(q, "café naïve Ωmega", "café| naïve| Ωmega");
    /* punctuation runs take the newlines after them (Llama-3) */
    expect_split(l, "end.\n\nNext", "end|.\n\n|Next");
    expect_split(g, "end.\n\nNext", "end|.|\n|\n|Next");
    /* trailing whitespace, tabs, CRLF */
    expect_split(g, "a  ", "a|  ");
    expect_split(l, "a\r\nb\t c", "a|\r\n|b|\t| c");
    /* 7 digits: 3 + 3 + 1 */
    expect_split(l, "x1234567", "x|123|456|7");
    /* special tokens are cut out before splitting, even inside a word */
    expect_split(g, "hi<|endoftext|>there <|endoftext|>", "hi|<256>|there| |<256>");
    /* invalid UTF-8 never matches: the bytes become pieces of their own */
    expect_split(g, "ab\xff\xfe cd", "ab|\xff\xfe| cd");
    qmc_tok_free(g);
    qmc_tok_free(l);
    qmc_tok_free(q);
}

/* ---- a hand-made tokenizer.json ---------------------------------------------------- */

/* "Ġ" is U+0120, the byte map's space. */
static const char *k_hand_json =
    "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":9,\"content\":\"<|x|>\",\"special\":true},"
    "{\"id\":11,\"content\":\"[user]\",\"special\":false}],"
    "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|x|>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]},"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"\\u0120\":3,\"ab\":4,\"bc\":5,\"abc\":6,\"\\u0120ab\":7,"
    "\"\\u0120a\":8,\"cab\":10},"
    "\"merges\":[\"a b\",[\"b\",\"c\"],\"ab c\",\"\\u0120 a\",\"\\u0120a b\"]%s}}";

static void expect_ids(const qmc_tokenizer *t, const char *text, const int32_t *ids, int n) {
    int32_t *got;
    int64_t ng;
    assert_int_equal(qmc_tok_encode(t, text, strlen(text), false, &got, &ng), 0);
    char a[256] = "", b[256] = "";
    for (int64_t i = 0; i < ng; i++) snprintf(a + strlen(a), sizeof a - strlen(a), "%d ", got[i]);
    for (int i = 0; i < n; i++) snprintf(b + strlen(b), sizeof b - strlen(b), "%d ", ids[i]);
    if (strcmp(a, b) != 0) fail_msg("encode '%s': got [%s], expected [%s]", text, a, b);
    qmc_free(got);
}

#define IDS(...) (const int32_t[]){__VA_ARGS__}, (int)(sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))

static void test_hand_made_json(void **state) {
    char json[2048];
    snprintf(json, sizeof json, k_hand_json, "");
    qmc_tokenizer *t = parse_json(json);
    assert_int_equal(t->n_vocab, 12);
    assert_int_equal(t->types[9], QMC_TT_CONTROL);
    assert_int_equal(t->types[11], QMC_TT_USER);
    assert_int_equal(t->bos_id, 9); /* from the TemplateProcessing post-processor */
    assert_true(t->add_bos);
    assert_string_equal(t->pre, "gpt-2");
    /* "abc": a b c -> (a,b) rank 0 -> ab c -> (ab,c) rank 2 -> abc */
    expect_ids(t, "abc", IDS(6));
    /* "bca": (b,c) rank 1 -> bc a; no merge for (bc,a) */
    expect_ids(t, "bca", IDS(5, 0));
    /* " abc" is one piece Ġ a b c: (a,b) rank 0 goes before (Ġ,a) rank 3, so Ġa never forms:
     * Ġ ab c -> (ab,c) rank 2 -> Ġ abc; (Ġ,abc) is no merge */
    expect_ids(t, " abc", IDS(3, 6));
    /* " ab": Ġ a b -> Ġ ab, and (Ġ,ab) is not a merge */
    expect_ids(t, " ab", IDS(3, 4));
    /* equal ranks: leftmost first, both occurrences merge */
    expect_ids(t, "abab", IDS(4, 4));
    /* specials cut the text; the user token too */
    expect_ids(t, "ab<|x|>c[user]a", IDS(4, 9, 2, 11, 0));
    /* two pieces: "a", " b" */
    expect_ids(t, "a b", IDS(0, 3, 1));
    /* "cab" is in the vocabulary but merges give c ab */
    expect_ids(t, "cab", IDS(2, 4));
    /* decoding: byte map back to bytes; control tokens print nothing, user tokens their text */
    char buf[64];
    int32_t seq[] = {3, 6, 9, 11, 5};
    int w = 0;
    for (int i = 0; i < 5; i++) w += qmc_tok_decode(t, i ? seq[i - 1] : -1, seq[i], buf + w, (int)sizeof buf - w);
    buf[w] = 0;
    assert_string_equal(buf, " abc[user]bc");
    /* a byte without a token and no <unk>: a clear error */
    int32_t *ids;
    int64_t n;
    assert_int_equal(qmc_tok_encode(t, "abz", 3, false, &ids, &n), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "byte 0x7a has no token"));
    qmc_tok_free(t);

    /* ignore_merges (Llama-3): a piece that is a token is taken whole */
    snprintf(json, sizeof json, k_hand_json, ",\"ignore_merges\":true");
    t = parse_json(json);
    expect_ids(t, "cab", IDS(10));
    expect_ids(t, "abc", IDS(6));
    expect_ids(t, "bca", IDS(5, 0));
    qmc_tok_free(t);
}

/* ---- a BPE trained here --------------------------------------------------------------- */

typedef struct {
    qmc_strmap words;           /* piece -> index (keys point into the corpus) */
    int32_t **sym;              /* [word] symbol ids */
    int *len;
    int64_t *freq;
    int n, cap;
} corpus;

static int add_word(void *user, const char *p, size_t len, int32_t special) {
    corpus *c = user;
    if (special >= 0 || len == 0) return 0;
    int32_t w = qmc_strmap_get(&c->words, p, (uint32_t)len);
    if (w >= 0) {
        c->freq[w]++;
        return 0;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->sym = realloc(c->sym, sizeof(int32_t *) * (size_t)c->cap);
        c->len = realloc(c->len, sizeof(int) * (size_t)c->cap);
        c->freq = realloc(c->freq, sizeof(int64_t) * (size_t)c->cap);
    }
    c->sym[c->n] = malloc(sizeof(int32_t) * len);
    for (size_t i = 0; i < len; i++) c->sym[c->n][i] = (unsigned char)p[i];
    c->len[c->n] = (int)len;
    c->freq[c->n] = 1;
    qmc_strmap_put(&c->words, p, (uint32_t)len, c->n);
    c->n++;
    return 0;
}

/* Plain BPE training: the most frequent adjacent pair (smallest ids on ties) becomes the next merge. */
typedef struct { char **piece; int n_vocab; int32_t (*merge)[2]; int n_merges; } trained;

static void train(const char *text, size_t len, int n_merges, trained *out) {
    qmc_tokenizer *base = base_tokenizer(PRE_GPT2);
    corpus c = {0};
    qmc_strmap_init(&c.words, 1024);
    assert_int_equal(qmc_bpe_pretokenize(base, text, len, add_word, &c), 0);
    qmc_tok_free(base);
    out->piece = calloc((size_t)(256 + n_merges), sizeof(char *));
    out->merge = calloc((size_t)n_merges, sizeof *out->merge);
    for (int b = 0; b < 256; b++) {
        out->piece[b] = calloc(4, 1);
        byte_char(b, out->piece[b]);
    }
    out->n_vocab = 256;
    int64_t *count = calloc((size_t)(256 + n_merges) * (size_t)(256 + n_merges), sizeof(int64_t));
    for (int k = 0; k < n_merges; k++) {
        int V = 256 + n_merges;
        memset(count, 0, sizeof(int64_t) * (size_t)V * (size_t)V);
        int64_t best = 0;
        int bl = -1, br = -1;
        for (int w = 0; w < c.n; w++)
            for (int i = 0; i + 1 < c.len[w]; i++) {
                int64_t *x = &count[(int64_t)c.sym[w][i] * V + c.sym[w][i + 1]];
                *x += c.freq[w];
                if (*x > best || (*x == best && (c.sym[w][i] < bl || (c.sym[w][i] == bl && c.sym[w][i + 1] < br)))) {
                    best = *x;
                    bl = c.sym[w][i];
                    br = c.sym[w][i + 1];
                }
            }
        if (best < 2) break;
        int id = out->n_vocab++;
        out->merge[k][0] = bl;
        out->merge[k][1] = br;
        out->n_merges = k + 1;
        size_t a = strlen(out->piece[bl]), b = strlen(out->piece[br]);
        out->piece[id] = malloc(a + b + 1);
        memcpy(out->piece[id], out->piece[bl], a);
        memcpy(out->piece[id] + a, out->piece[br], b + 1);
        for (int w = 0; w < c.n; w++) {
            int j = 0;
            for (int i = 0; i < c.len[w]; i++) {
                if (i + 1 < c.len[w] && c.sym[w][i] == bl && c.sym[w][i + 1] == br) {
                    c.sym[w][j++] = id;
                    i++;
                } else c.sym[w][j++] = c.sym[w][i];
            }
            c.len[w] = j;
        }
    }
    free(count);
    for (int w = 0; w < c.n; w++) free(c.sym[w]);
    free(c.sym);
    free(c.len);
    free(c.freq);
    qmc_strmap_free(&c.words);
}

static void trained_free(trained *t) {
    for (int i = 0; i < t->n_vocab; i++) free(t->piece[i]);
    free(t->piece);
    free(t->merge);
}

/* tokenizer.json of a trained vocabulary plus <|endoftext|>, with a pre-tokenizer. */
static char *trained_json(const trained *tr, pre_kind k) {
    cJSON *root = cJSON_CreateObject();
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    cJSON *sp = cJSON_CreateObject();
    cJSON_AddNumberToObject(sp, "id", tr->n_vocab);
    cJSON_AddStringToObject(sp, "content", "<|endoftext|>");
    cJSON_AddBoolToObject(sp, "special", true);
    cJSON_AddItemToArray(added, sp);
    if (k == PRE_QWEN2) cJSON_AddItemToObject(root, "normalizer", cJSON_Parse("{\"type\":\"NFC\"}"));
    char *pre = k == PRE_GPT2 ? NULL : split_pre(k == PRE_LLAMA3 ? k_llama3_re : k_qwen2_re);
    cJSON_AddItemToObject(root, "pre_tokenizer", cJSON_Parse(pre ? pre : k_gpt2_pre));
    free(pre);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddBoolToObject(model, "ignore_merges", k == PRE_LLAMA3);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int i = 0; i < tr->n_vocab; i++) cJSON_AddNumberToObject(vocab, tr->piece[i], i);
    cJSON *merges = cJSON_AddArrayToObject(model, "merges");
    for (int i = 0; i < tr->n_merges; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s %s", tr->piece[tr->merge[i][0]], tr->piece[tr->merge[i][1]]);
        cJSON_AddItemToArray(merges, cJSON_CreateString(buf));
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

/* The slow reference: pre-tokenize with the library, then for each piece
 * repeatedly merge the adjacent pair of lowest rank (leftmost on ties). */
typedef struct {
    const trained *tr;
    qmc_strmap rank;     /* "l r" -> rank */
    qmc_strmap vocab;    /* piece -> id */
    bool ignore_merges;
    int32_t *ids;
    int64_t n, cap;
} ref_state;

static void ref_push(ref_state *r, int32_t id) {
    if (r->n == r->cap) r->ids = realloc(r->ids, sizeof(int32_t) * (size_t)(r->cap = r->cap ? 2 * r->cap : 1024));
    r->ids[r->n++] = id;
}

static int ref_piece(void *user, const char *p, size_t len, int32_t special) {
    ref_state *r = user;
    if (special >= 0) {
        ref_push(r, special);
        return 0;
    }
    /* the piece in the byte map's alphabet; symbols are spans of it */
    char *whole = malloc(2 * len + 1), *key = malloc(4 * len + 2);
    size_t *start = malloc(sizeof(size_t) * len), *slen = malloc(sizeof(size_t) * len), wl = 0;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        start[n] = wl;
        slen[n++] = (size_t)byte_char((unsigned char)p[i], whole + wl);
        wl += slen[n - 1];
    }
    int32_t w = qmc_strmap_get(&r->vocab, whole, (uint32_t)wl);
    if (r->ignore_merges && w >= 0) n = 0, ref_push(r, w);
    for (;;) {
        int best = -1, best_rank = 0;
        for (int i = 0; i + 1 < n; i++) {
            memcpy(key, whole + start[i], slen[i]);
            key[slen[i]] = ' ';
            memcpy(key + slen[i] + 1, whole + start[i + 1], slen[i + 1]);
            int32_t rk = qmc_strmap_get(&r->rank, key, (uint32_t)(slen[i] + slen[i + 1] + 1));
            if (rk >= 0 && (best < 0 || rk < best_rank)) best = i, best_rank = rk;
        }
        if (best < 0) break;
        slen[best] += slen[best + 1];
        memmove(start + best + 1, start + best + 2, sizeof(size_t) * (size_t)(n - best - 2));
        memmove(slen + best + 1, slen + best + 2, sizeof(size_t) * (size_t)(n - best - 2));
        n--;
    }
    for (int i = 0; i < n; i++) ref_push(r, qmc_strmap_get(&r->vocab, whole + start[i], (uint32_t)slen[i]));
    free(whole);
    free(key);
    free(start);
    free(slen);
    return 0;
}

static void ref_encode(const qmc_tokenizer *t, const trained *tr, bool ignore, const char *text, size_t len, int32_t **ids,
                       int64_t *n) {
    ref_state r = {.tr = tr, .ignore_merges = ignore};
    qmc_strmap_init(&r.rank, (uint64_t)tr->n_merges);
    qmc_strmap_init(&r.vocab, (uint64_t)tr->n_vocab);
    char **keys = malloc(sizeof(char *) * (size_t)(tr->n_merges + 1));
    for (int i = 0; i < tr->n_merges; i++) {
        keys[i] = malloc(strlen(tr->piece[tr->merge[i][0]]) + strlen(tr->piece[tr->merge[i][1]]) + 2);
        sprintf(keys[i], "%s %s", tr->piece[tr->merge[i][0]], tr->piece[tr->merge[i][1]]);
        if (qmc_strmap_get(&r.rank, keys[i], (uint32_t)strlen(keys[i])) < 0)
            qmc_strmap_put(&r.rank, keys[i], (uint32_t)strlen(keys[i]), i);
    }
    for (int i = tr->n_vocab - 1; i >= 0; i--) qmc_strmap_put(&r.vocab, tr->piece[i], (uint32_t)strlen(tr->piece[i]), i);
    assert_int_equal(qmc_bpe_pretokenize(t, text, len, ref_piece, &r), 0);
    for (int i = 0; i < tr->n_merges; i++) free(keys[i]);
    free(keys);
    qmc_strmap_free(&r.rank);
    qmc_strmap_free(&r.vocab);
    *ids = r.ids;
    *n = r.n;
}

/* The texts every tokenizer kind must round-trip (plus a hand-written one). */
typedef struct { char *text; size_t len; const char *name; } text_t;
static text_t g_texts[8];
static int g_n_texts;

static int load_texts(void **state) {
    size_t big = tu_quick() ? 24 << 10 : 256 << 10;
    static const char *files[] = {"data/tinystories/TinyStories-valid-sample-30k.txt", "data/wikitext-2-raw/wiki.test.raw",
                                  "data/wikitext-2/test.txt", "data/zeroshot/arc-hf/ARC-Easy-test.jsonl",
                                  "data/zeroshot/hellaswag/hellaswag_val_full.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        const char *p = tu_shared(files[i]);
        if (!p) continue;
        text_t *t = &g_texts[g_n_texts++];
        t->text = read_text(p, i == 0 ? big : big / 2, &t->len);
        t->name = files[i];
    }
    static const char mixed[] = "Ünïcödé ελληνικά 日本語のテキスト 🙂👍🏽 e\xcc\x81 tabs\tand  spaces  \r\n"
                                "numbers 3.14159 1,000,000 and <|endoftext|> inside; bad bytes \xff\xc0\x80 end\n";
    text_t *t = &g_texts[g_n_texts++];
    t->len = sizeof mixed - 1;
    t->text = qmc_alloc(t->len + 1, 1);
    memcpy(t->text, mixed, t->len + 1);
    t->name = "mixed";
    return 0;
}

static int free_texts(void **state) {
    for (int i = 0; i < g_n_texts; i++) qmc_free(g_texts[i].text);
    return 0;
}

/* decode(encode(text)) == text, skipping control tokens (which decode to nothing). */
static void check_round_trip(const qmc_tokenizer *t, const text_t *x, int32_t **ids_out, int64_t *n_out) {
    int32_t *ids;
    int64_t n;
    int rc = qmc_tok_encode(t, x->text, x->len, false, &ids, &n);
    if (rc) fail_msg("%s: %s", x->name, qmc_errmsg());
    char *buf = malloc(x->len + 64);
    size_t w = 0;
    for (int64_t i = 0; i < n; i++) {
        char piece[512];
        int k = qmc_tok_decode(t, i ? ids[i - 1] : -1, ids[i], piece, sizeof piece);
        if (t->types[ids[i]] == QMC_TT_CONTROL) { /* <|endoftext|>: put its text back for the comparison */
            int32_t pl;
            const char *p = qmc_tok_piece(t, ids[i], &pl);
            memcpy(piece, p, (size_t)pl);
            k = pl;
        }
        if (w + (size_t)k > x->len + 32) fail_msg("%s: decoded text is too long", x->name);
        memcpy(buf + w, piece, (size_t)k);
        w += (size_t)k;
    }
    if (w != x->len || memcmp(buf, x->text, w) != 0) {
        size_t i = 0;
        while (i < w && i < x->len && buf[i] == x->text[i]) i++;
        fail_msg("%s: round trip differs at byte %zu of %zu (decoded %zu bytes)", x->name, i, x->len, w);
    }
    free(buf);
    if (ids_out) {
        *ids_out = ids;
        *n_out = n;
    } else qmc_free(ids);
}

static void same_ids(const qmc_tokenizer *a, const qmc_tokenizer *b, const text_t *x) {
    int32_t *ia, *ib;
    int64_t na, nb;
    assert_int_equal(qmc_tok_encode(a, x->text, x->len, false, &ia, &na), 0);
    assert_int_equal(qmc_tok_encode(b, x->text, x->len, false, &ib, &nb), 0);
    if (na != nb || memcmp(ia, ib, (size_t)na * sizeof(int32_t)) != 0) {
        int64_t i = 0;
        while (i < na && i < nb && ia[i] == ib[i]) i++;
        fail_msg("%s: token lists differ at %lld (%lld vs %lld tokens)", x->name, (long long)i, (long long)na, (long long)nb);
    }
    qmc_free(ia);
    qmc_free(ib);
}

static qmc_tokenizer *via_gguf(const qmc_tokenizer *t, const char *name) {
    gguf_writer *w = gguf_writer_new();
    assert_int_equal(gguf_set_str(w, "general.architecture", "llama"), 0);
    assert_int_equal(qmc_tok_to_gguf(t, w), 0);
    const char *path = tu_tmp(name);
    assert_int_equal(gguf_write(w, path, NULL, NULL), 0);
    gguf_writer_free(w);
    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(path, &f), 0);
    gguf_ctx *g;
    assert_int_equal(gguf_parse(f.data, f.size, path, &g), 0);
    qmc_tokenizer *out = NULL;
    assert_int_equal(qmc_tok_from_gguf(g, path, &out), 0);
    gguf_free(g);
    qmc_unmap_file(&f);
    return out;
}

static qmc_tokenizer *via_hf(const qmc_tokenizer *t, const char *name) {
    const char *dir = tu_tmp(name);
    tu_run(NULL, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(qmc_tok_save_hf(t, dir), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    qmc_tokenizer *out = NULL;
    if (qmc_tok_load_hf(path, &out)) fail_msg("%s", qmc_errmsg());
    return out;
}

static void same_vocab(const qmc_tokenizer *a, const qmc_tokenizer *b) {
    assert_int_equal(a->n_vocab, b->n_vocab);
    assert_int_equal(a->kind, b->kind);
    for (int32_t i = 0; i < a->n_vocab; i++) {
        int32_t la, lb;
        const char *pa = qmc_tok_piece(a, i, &la), *pb = qmc_tok_piece(b, i, &lb);
        if (la != lb || memcmp(pa, pb, (size_t)la)) fail_msg("piece %d differs", i);
    }
    assert_int_equal(a->bos_id, b->bos_id);
    assert_int_equal(a->eos_id, b->eos_id);
    assert_int_equal(a->add_bos, b->add_bos);
    if (a->kind == QMC_TOK_BPE) {
        assert_int_equal(a->bpe->n_merges, b->bpe->n_merges);
        assert_memory_equal(a->bpe->pair_key, b->bpe->pair_key, (size_t)a->bpe->n_merges * 8);
        assert_int_equal(a->bpe->ignore_merges, b->bpe->ignore_merges);
        assert_int_equal(a->bpe->n_patterns, b->bpe->n_patterns);
        assert_string_equal(a->bpe->patterns[0], b->bpe->patterns[0]);
    }
}

/* A model carrying the BPE tokenizer keeps it through GGUF and HF directories. */
static void model_round_trip(qmc_tokenizer *t) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 32, .hidden = 48, .layers = 1, .heads = 2, .kv_heads = 1,
                        .vocab = t->n_vocab + 10, .seq_len = 32, .rope = QMC_ROPE_NEOX};
    qmc_model *m = tu_random_model(&sp, 5);
    m->tok = t;
    const char *gg = tu_tmp("bpe-model.gguf"), *dir = tu_tmp("bpe-model-hf");
    assert_int_equal(qmc_model_save_gguf(m, gg, QMC_WRITE_F32), 0);
    assert_int_equal(qmc_model_save_hf(m, dir, QMC_WRITE_F32), 0);
    m->tok = NULL;
    qmc_model_free(m);
    qmc_model *a = NULL, *b = NULL;
    assert_int_equal(qmc_model_load(gg, NULL, &a), 0);
    assert_int_equal(qmc_model_load(dir, NULL, &b), 0);
    assert_string_equal(a->tok->pre, "llama-bpe");
    same_vocab(t, a->tok);
    same_vocab(t, b->tok);
    for (int i = 0; i < g_n_texts; i++) {
        same_ids(t, a->tok, &g_texts[i]);
        same_ids(t, b->tok, &g_texts[i]);
    }
    qmc_model_free(a);
    qmc_model_free(b);
}

static void test_trained_bpe(void **state) {
    if (g_n_texts < 2) skip();
    /* train on TinyStories + WikiText so merges cover words, digits and punctuation */
    size_t len = 0;
    for (int i = 0; i < 2; i++) len += g_texts[i].len;
    char *corpus_text = malloc(len + 1);
    memcpy(corpus_text, g_texts[0].text, g_texts[0].len);
    memcpy(corpus_text + g_texts[0].len, g_texts[1].text, g_texts[1].len);
    trained tr = {0};
    train(corpus_text, tu_quick() ? len / 4 : len, tu_quick() ? 120 : 400, &tr);
    free(corpus_text);
    assert_true(tr.n_merges > 100);
    for (pre_kind k = PRE_GPT2; k <= PRE_QWEN2; k++) {
        char *json = trained_json(&tr, k);
        qmc_tokenizer *t = parse_json(json);
        free(json);
        assert_int_equal(t->n_vocab, tr.n_vocab + 1);
        qmc_tokenizer *g = via_gguf(t, "trained.gguf"), *h = via_hf(t, "trained-hf");
        same_vocab(t, g);
        same_vocab(t, h);
        for (int i = 0; i < g_n_texts; i++) {
            int32_t *ids, *ref;
            int64_t n, nr;
            check_round_trip(t, &g_texts[i], &ids, &n);
            ref_encode(t, &tr, k == PRE_LLAMA3, g_texts[i].text, g_texts[i].len, &ref, &nr);
            if (n != nr || memcmp(ids, ref, (size_t)n * sizeof(int32_t)) != 0) {
                int64_t j = 0;
                while (j < n && j < nr && ids[j] == ref[j]) j++;
                fail_msg("pre %d, %s: fast and reference encodings differ at token %lld (%lld vs %lld)", k, g_texts[i].name,
                         (long long)j, (long long)n, (long long)nr);
            }
            assert_true(n < (int64_t)g_texts[i].len); /* merges did something */
            qmc_free(ids);
            free(ref);
            same_ids(t, g, &g_texts[i]);
            same_ids(t, h, &g_texts[i]);
        }
        qmc_tok_free(g);
        qmc_tok_free(h);
        if (k == PRE_LLAMA3) model_round_trip(t);
        qmc_tok_free(t);
    }
    trained_free(&tr);
}

/* Long runs (one huge piece, long whitespace) stay fast: no quadratic step. */
static void test_long_pieces(void **state) {
    qmc_tokenizer *t = base_tokenizer(PRE_LLAMA3);
    size_t n = tu_quick() ? 20000 : 200000;
    char *text = malloc(n + 1);
    memset(text, 'a', n);
    memset(text + n / 2, ' ', n / 4);
    text[n] = 0;
    text_t x = {text, n, "long runs"};
    double t0 = qmc_now();
    check_round_trip(t, &x, NULL, NULL);
    /* generous: a quadratic merge loop would take minutes here */
    assert_true(qmc_now() - t0 < 10.0);
    free(text);
    qmc_tok_free(t);
}

/* ---- SentencePiece vocabularies ------------------------------------------------------- */

static void test_spm_round_trips(void **state) {
    static const struct { const char *rel; int vocab; } toks[] = {
        {"models/stories260K/tok512.bin", 512},
        {"models/gutenberg5M/tokenizer.bin", 2048},
        {"tokenizers/llama2/tokenizer.bin", 32000},
    };
    int done = 0;
    for (size_t k = 0; k < sizeof toks / sizeof *toks; k++) {
        const char *p = tu_shared(toks[k].rel);
        if (!p) continue;
        if (tu_quick() && toks[k].vocab > 2048) continue;
        qmc_tokenizer *t = NULL;
        assert_int_equal(qmc_tok_load_llama2c(p, toks[k].vocab, &t), 0);
        qmc_tokenizer *h = via_hf(t, "spm-hf");
        assert_int_equal(h->kind, QMC_TOK_SPM);
        assert_true(h->add_space_prefix);
        assert_int_equal(h->n_vocab, t->n_vocab);
        /* these vocabularies never continue a piece across a word start, so words
         * are merged one at a time; one heap over the whole text agrees */
        assert_true(t->spm_word_merges);
        qmc_tokenizer *whole = NULL;
        assert_int_equal(qmc_tok_load_llama2c(p, toks[k].vocab, &whole), 0);
        whole->spm_word_merges = false;
        for (int i = 0; i < g_n_texts; i++) {
            check_round_trip(t, &g_texts[i], NULL, NULL);
            same_ids(t, h, &g_texts[i]);
            same_ids(t, whole, &g_texts[i]);
        }
        qmc_tok_free(whole);
        /* and once more: the scores derived from merges give the same merges */
        qmc_tokenizer *h2 = via_hf(h, "spm-hf2");
        for (int i = 0; i < 2 && i < g_n_texts; i++) same_ids(t, h2, &g_texts[i]);
        qmc_tok_free(t);
        qmc_tok_free(h);
        qmc_tok_free(h2);
        done++;
    }
    if (!done) skip();
}

/* Merges of a small SPM vocabulary, worked out by hand from
 * SentencePieceExtractor's rule (splits of each piece, by score). */
static void test_spm_merges_by_hand(void **state) {
    const char *pieces[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b", "ab", "\xe2\x96\x81" "a", "\xe2\x96\x81" "ab"};
    int32_t lens[9];
    float scores[9] = {0, 0, 0, -10, -11, -12, -1, -2, -3};
    int32_t types[9] = {QMC_TT_UNKNOWN, QMC_TT_CONTROL, QMC_TT_CONTROL, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < 9; i++) lens[i] = (int32_t)strlen(pieces[i]);
    qmc_tokenizer *t;
    assert_int_equal(qmc_tok_create(QMC_TOK_SPM, 9, pieces, lens, scores, types, &t), 0);
    t->unk_id = 0;
    t->bos_id = 1;
    t->eos_id = 2;
    t->add_bos = true;
    qmc_tokenizer *h = via_hf(t, "spm-hand");
    char path[4200], *json;
    size_t len;
    snprintf(path, sizeof path, "%s/tokenizer.json", tu_tmp("spm-hand"));
    assert_int_equal(qmc_read_file(path, 1 << 20, &json, &len), 0);
    cJSON *root = cJSON_Parse(json);
    cJSON *merges = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "model"), "merges");
    /* ab (-1): "a b"; ▁a (-2): "▁ a"; ▁ab (-3): "▁ ab" (ids 3,6) before "▁a b" (ids 7,5) */
    const char *want[] = {"a b", "\xe2\x96\x81 a", "\xe2\x96\x81 ab", "\xe2\x96\x81" "a b"};
    assert_int_equal(cJSON_GetArraySize(merges), 4);
    for (int i = 0; i < 4; i++) assert_string_equal(cJSON_GetArrayItem(merges, i)->valuestring, want[i]);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "model"), "byte_fallback")));
    cJSON_Delete(root);
    qmc_free(json);
    assert_int_equal(h->types[0], QMC_TT_UNKNOWN);
    assert_int_equal(h->types[1], QMC_TT_CONTROL);
    assert_int_equal(h->bos_id, 1);
    assert_true(h->add_bos);
    /* "ab ab" -> ▁ab ▁ab */
    text_t x = {"ab ab", 5, "ab ab"};
    same_ids(t, h, &x);
    int32_t *ids;
    int64_t n;
    assert_int_equal(qmc_tok_encode(h, "ab ab", 5, false, &ids, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 8);
    assert_int_equal(ids[1], 8);
    qmc_free(ids);
    qmc_tok_free(t);
    qmc_tok_free(h);

    /* Llama-2 as newer tokenizers ship it: a Metaspace pre-tokenizer instead of the normalizers */
    const char *meta =
        "{\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":false},"
        "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,"
        "\"\\u2581\":3,\"a\":4,\"b\":5,\"ab\":6,\"\\u2581a\":7,\"\\u2581ab\":8},\"merges\":[\"a b\",\"\\u2581 a\",\"\\u2581 ab\",\"\\u2581a b\"]}}";
    h = parse_json(meta);
    assert_int_equal(h->kind, QMC_TOK_SPM);
    assert_true(h->add_space_prefix);
    assert_int_equal(h->unk_id, 0);
    assert_int_equal(qmc_tok_encode(h, "ab ab", 5, false, &ids, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 8);
    qmc_free(ids);
    qmc_tok_free(h);
}

/* ---- bad files -------------------------------------------------------------------------- */

static void parse_fails(const char *json, int status, const char *what) {
    qmc_tokenizer *t = NULL;
    int rc = qmc_tok_parse_hf(json, strlen(json), "bad.json", &t);
    assert_null(t);
    if (rc != status || !strstr(qmc_errmsg(), what) || !strstr(qmc_errmsg(), "bad.json"))
        fail_msg("got %d '%s', expected %d with '%s'", rc, qmc_errmsg(), status, what);
}

static void test_bad_tokenizer_json(void **state) {
    char json[2048];
    parse_fails("{\"model\": ", QMC_ERR_FORMAT, "malformed JSON");
    parse_fails("{\"model\": {\"type\": \"BPE\"}}", QMC_ERR_FORMAT, "no \"model\" with a \"vocab\"");
    parse_fails("{\"model\": {\"type\": \"Unigram\", \"vocab\": {}}}", QMC_ERR_UNSUPPORTED, "'Unigram' is not supported");
    parse_fails("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", QMC_ERR_UNSUPPORTED,
                "without a ByteLevel pre-tokenizer or byte_fallback");
    snprintf(json, sizeof json, k_hand_json, "");
    static const struct { const char *from, *to; int status; const char *what; } edits[] = {
        {"\"ab c\"", "\"ab d\"", QMC_ERR_FORMAT, "merge 2 ('ab' 'd') uses a piece that is not in the vocabulary"},
        {"\"ab c\"", "\"abc \"", QMC_ERR_FORMAT, "merge 2 ('abc' '') uses a piece"},
        {"\"ab c\"", "\"abxc\"", QMC_ERR_FORMAT, "merge 2 ('abxc') is not two pieces"},
        {"[\"b\",\"c\"]", "[\"b\"]", QMC_ERR_FORMAT, "merge 1 is neither"},
        {"\"a\":0", "\"a\":-1", QMC_ERR_FORMAT, "vocab entry 'a' has a bad id"},
        {"\"a\":0", "\"a\":\"0\"", QMC_ERR_FORMAT, "vocab entry 'a' has a bad id"},
        {"\"b\":1", "\"b\":0", QMC_ERR_FORMAT, "id 0 is given to both"},
        {"\"id\":9,", "", QMC_ERR_FORMAT, "added token without id or content"},
        {"\"cab\":10", "\"cab\":16000000", QMC_ERR_FORMAT, "token ids run up to 16000000 but only 12 tokens are defined"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        char bad[2048];
        const char *at = strstr(json, edits[i].from);
        assert_non_null(at);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - json), json, edits[i].to, at + strlen(edits[i].from));
        parse_fails(bad, edits[i].status, edits[i].what);
    }
    parse_fails("{\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}",
                QMC_ERR_UNSUPPORTED, "pre_tokenizer 'Whitespace' is not supported");
    parse_fails("{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Removed\"},"
                "\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}",
                QMC_ERR_UNSUPPORTED, "behavior 'Removed'");
    parse_fails("{\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true},\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}",
                QMC_ERR_UNSUPPORTED, "add_prefix_space");
    parse_fails("{\"normalizer\":{\"type\":\"Lowercase\"},\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}",
                QMC_ERR_UNSUPPORTED, "normalizer 'Lowercase'");
    parse_fails("{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a\"},"
                "\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\",\"use_regex\":false}]},"
                "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
                QMC_ERR_FORMAT, "regex does not compile");
    parse_fails("{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}", QMC_ERR_FORMAT,
                "empty vocabulary");
    parse_fails("{\"added_tokens\":[{\"id\":-3,\"content\":\"x\"}],\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
                QMC_ERR_FORMAT, "\"id\" must be an integer");
    /* missing file */
    qmc_tokenizer *t = NULL;
    assert_int_equal(qmc_tok_load_hf(tu_tmp("no-such-tokenizer.json"), &t), QMC_ERR_IO);
    /* GGUF: unknown pre-tokenizer name */
    qmc_tokenizer *g = base_tokenizer(PRE_GPT2);
    qmc_bpe_merge none[1];
    (void)none;
    assert_int_equal(qmc_bpe_init(g, NULL, NULL, 0, "deepseek-llm"), QMC_ERR_UNSUPPORTED);
    assert_non_null(strstr(qmc_errmsg(), "'deepseek-llm' is not supported"));
    const char *m[1] = {"ab"};
    int32_t ml[1] = {2};
    assert_int_equal(qmc_bpe_init(g, m, ml, 1, "gpt-2"), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "not two pieces separated by a space"));
    qmc_tok_free(g);
    /* a custom pre-tokenizer has no GGUF name */
    g = parse_json("{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\",\"individual_digits\":true},"
                   "{\"type\":\"ByteLevel\"}]},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}");
    assert_int_equal(g->bpe->n_patterns, 2);
    gguf_writer *w = gguf_writer_new();
    assert_int_equal(qmc_tok_to_gguf(g, w), QMC_ERR_UNSUPPORTED);
    assert_non_null(strstr(qmc_errmsg(), "no GGUF tokenizer.ggml.pre name"));
    gguf_writer_free(w);
    qmc_tok_free(g);
}

/* Random byte changes in a tokenizer.json: load or fail cleanly; what loads encodes. */
static void test_json_mutations(void **state) {
    char json[2048];
    snprintf(json, sizeof json, k_hand_json, ",\"ignore_merges\":true");
    size_t len = strlen(json);
    int ok = 0, iters = tu_quick() ? 300 : 3000;
    for (int it = 0; it < iters; it++) {
        char buf[2048];
        memcpy(buf, json, len + 1);
        for (int k = 0; k < 2; k++)
            buf[qmc_rand_u64(200, (uint64_t)it * 2 + (uint64_t)k) % len] = (char)(32 + qmc_rand_u64(201, (uint64_t)it * 2 + (uint64_t)k) % 95);
        qmc_tokenizer *t = NULL;
        if (qmc_tok_parse_hf(buf, len, "mutant.json", &t) == 0) {
            ok++;
            int32_t *ids;
            int64_t n;
            if (qmc_tok_encode(t, "abc ab<|x|>cab", 14, true, &ids, &n) == 0) qmc_free(ids);
            qmc_tok_free(t);
        } else assert_non_null(strstr(qmc_errmsg(), "mutant.json"));
    }
    print_message("%d of %d mutated tokenizer.json files still load\n", ok, iters);
}

/* tokenizer_config.json beside tokenizer.json sets the special tokens. */
static void test_tokenizer_config(void **state) {
    const char *dir = tu_tmp("tokcfg");
    tu_run(NULL, "mkdir -p '%s'", dir);
    char json[2048], path[4200];
    snprintf(json, sizeof json, k_hand_json, "");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/tokenizer_config.json", dir);
    f = fopen(cfg, "w");
    fputs("{\"add_bos_token\": false, \"bos_token\": {\"content\": \"bc\"}, \"eos_token\": \"abc\"}", f);
    fclose(f);
    qmc_tokenizer *t = NULL;
    assert_int_equal(qmc_tok_load_hf(path, &t), 0);
    assert_int_equal(t->bos_id, 5);
    assert_int_equal(t->eos_id, 6);
    assert_false(t->add_bos);
    qmc_tok_free(t);
    f = fopen(cfg, "w");
    fputs("{\"add_bos_token\": 3}", f);
    fclose(f);
    assert_int_equal(qmc_tok_load_hf(path, &t), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "tokenizer_config.json: \"add_bos_token\" must be true or false"));
    assert_null(t);
}

/* qmc tokenize with a tokenizer file and no model. */
static void test_cli_tokenizer_only(void **state) {
    const char *p = tu_shared("models/stories260K/tok512.bin");
    if (!p) skip();
    char *out = NULL;
    assert_int_equal(tu_run(&out, "%s tokenize --tokenizer '%s' -p 'Once upon a time' --json", tu_qmc(), p), 0);
    qmc_tokenizer *t;
    assert_int_equal(qmc_tok_load_llama2c(p, 512, &t), 0);
    int32_t *ids;
    int64_t n;
    assert_int_equal(qmc_tok_encode(t, "Once upon a time", 16, false, &ids, &n), 0);
    char want[256] = "";
    for (int64_t i = 0; i < n; i++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", i ? ", " : "", ids[i]);
    if (!strstr(out, want)) fail_msg("'%s' not in '%s'", want, out);
    qmc_free(ids);
    qmc_tok_free(t);
    free(out);
    /* a tokenizer.json, and a file that is neither */
    char json[2048];
    snprintf(json, sizeof json, k_hand_json, "");
    FILE *f = fopen(tu_tmp("cli-tok.json"), "w");
    fputs(json, f);
    fclose(f);
    assert_int_equal(tu_run(&out, "%s tokenize --tokenizer '%s' -p ' abc' --json", tu_qmc(), tu_tmp("cli-tok.json")), 0);
    assert_non_null(strstr(out, "3, 6"));
    free(out);
    f = fopen(tu_tmp("junk.bin"), "w");
    fputs("junkjunkjunk", f);
    fclose(f);
    assert_int_equal(tu_run(&out, "%s tokenize --tokenizer '%s' -p x", tu_qmc(), tu_tmp("junk.bin")), 1);
    assert_non_null(strstr(out, "junk.bin: not a llama2.c tokenizer"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pqueue),
        cmocka_unit_test(test_pretokenizer_splits), cmocka_unit_test(test_hand_made_json),
        cmocka_unit_test(test_trained_bpe),         cmocka_unit_test(test_long_pieces),
        cmocka_unit_test(test_spm_round_trips),     cmocka_unit_test(test_spm_merges_by_hand),
        cmocka_unit_test(test_bad_tokenizer_json),  cmocka_unit_test(test_tokenizer_config),
        cmocka_unit_test(test_cli_tokenizer_only),  cmocka_unit_test(test_json_mutations),
    };
    return cmocka_run_group_tests(tests, load_texts, free_texts);
}
