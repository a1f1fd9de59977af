/* tokenizer.c — vocabularies (llama2.c tokenizer.bin, GGUF tokenizer.ggml.*)
 * and SentencePiece-style BPE encoding.
 *
 * Encoding is O(n log n): the text is split into UTF-8 characters kept in a
 * doubly linked list, every adjacent pair whose concatenation is a piece goes
 * into a max-heap keyed by (score, leftmost position) (util/pqueue.h), and
 * the best pair is merged until none is left (the algorithm of llama2.c and llama.cpp's
 * llm_tokenizer_spm, without their quadratic rescans).  Characters that are
 * not pieces fall back to <0xNN> byte tokens. */
#include <stdlib.h>
#include <string.h>

#include "model/tokenizer.h"
#include "util/pqueue.h"
#include "util/util.h"

static const char k_space[] = "\xe2\x96\x81"; /* U+2581 LOWER ONE EIGHTH BLOCK */

void qmc_tok_free(qmc_tokenizer *t) {
    if (!t) return;
    qmc_free(t->arena);
    qmc_free(t->piece_off);
    qmc_free(t->piece_len);
    qmc_free(t->scores);
    qmc_free(t->types);
    qmc_strmap_free(&t->map);
    if (t->bpe) qmc_bpe_free(t->bpe);
    qmc_free(t);
}

int qmc_tok_create(qmc_tok_kind kind, int32_t n, const char *const *pieces, const int32_t *lens,
                   const float *scores, const int32_t *types, qmc_tokenizer **out) {
    *out = NULL;
    if (n <= 0) return qmc_fail(QMC_ERR_FORMAT, "empty vocabulary");
    qmc_tokenizer *t = qmc_alloc(1, sizeof *t);
    if (!t) return QMC_ERR_NOMEM;
    t->kind = kind;
    t->n_vocab = n;
    t->bos_id = t->eos_id = t->unk_id = t->pad_id = -1;
    t->add_space_prefix = kind == QMC_TOK_SPM;
    snprintf(t->model_name, sizeof t->model_name, "%s", kind == QMC_TOK_SPM ? "llama" : "gpt2");
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        if (lens[i] < 0) {
            qmc_tok_free(t);
            return qmc_fail(QMC_ERR_FORMAT, "token %d has a negative length", i);
        }
        total += lens[i];
    }
    t->arena = qmc_alloc((size_t)total + 1, 1);
    t->piece_off = qmc_alloc((size_t)n, sizeof(int64_t));
    t->piece_len = qmc_alloc((size_t)n, sizeof(int32_t));
    t->scores = qmc_alloc((size_t)n, sizeof(float));
    t->types = qmc_alloc((size_t)n, sizeof(int32_t));
    if (!t->arena || !t->piece_off || !t->piece_len || !t->scores || !t->types ||
        qmc_strmap_init(&t->map, (uint64_t)n)) {
        qmc_tok_free(t);
        return QMC_ERR_NOMEM;
    }
    int64_t off = 0;
    for (int i = 0; i < 256; i++) t->byte_tokens[i] = -1;
    for (int32_t i = 0; i < n; i++) {
        memcpy(t->arena + off, pieces[i], (size_t)lens[i]);
        t->piece_off[i] = off;
        t->piece_len[i] = lens[i];
        t->scores[i] = scores ? scores[i] : 0.0f;
        t->types[i] = types ? types[i] : QMC_TT_NORMAL;
        off += lens[i];
    }
    /* map pieces to ids; on duplicates the first id wins (as SentencePiece) */
    for (int32_t i = n - 1; i >= 0; i--) {
        if (qmc_strmap_put(&t->map, t->arena + t->piece_off[i], (uint32_t)t->piece_len[i], i)) {
            qmc_tok_free(t);
            return QMC_ERR_NOMEM;
        }
    }
    /* SPM: does any piece continue across a word start ("x▁")? */
    t->spm_word_merges = kind == QMC_TOK_SPM;
    for (int32_t i = 0; i < n && t->spm_word_merges; i++) {
        const char *p = t->arena + t->piece_off[i];
        for (int32_t k = 1; k + 3 <= t->piece_len[i]; k++)
            if (memcmp(p + k, k_space, 3) == 0 && (k < 3 || memcmp(p + k - 3, k_space, 3) != 0)) {
                t->spm_word_merges = false;
                break;
            }
    }
    /* byte tokens "<0xNN>" */
    for (int32_t i = 0; i < n; i++) {
        const char *p = t->arena + t->piece_off[i];
        if (t->piece_len[i] == 6 && memcmp(p, "<0x", 3) == 0 && p[5] == '>') {
            unsigned v;
            char hex[3] = {p[3], p[4], 0};
            char *end;
            v = (unsigned)strtoul(hex, &end, 16);
            if (*end == 0 && v < 256 && t->byte_tokens[v] < 0 &&
                (t->types[i] == QMC_TT_BYTE || !types))
                t->byte_tokens[v] = i;
        }
    }
    *out = t;
    return QMC_OK;
}

static int32_t find_piece(const qmc_tokenizer *t, const char *s) {
    return qmc_strmap_get(&t->map, s, (uint32_t)strlen(s));
}

void qmc_tok_guess_specials(qmc_tokenizer *t) {
    if (t->bos_id < 0) {
        int32_t id = find_piece(t, "<s>");
        if (id < 0) id = find_piece(t, "<|begin_of_text|>");
        if (id < 0) id = find_piece(t, "<|endoftext|>");
        t->bos_id = id;
    }
    if (t->eos_id < 0) {
        int32_t id = find_piece(t, "</s>");
        if (id < 0) id = find_piece(t, "<|end_of_text|>");
        if (id < 0) id = find_piece(t, "<|endoftext|>");
        t->eos_id = id;
    }
    if (t->unk_id < 0) t->unk_id = find_piece(t, "<unk>");
}

/* ---- llama2.c tokenizer.bin ---------------------------------------------- */

int qmc_tok_parse_llama2c(const uint8_t *buf, size_t size, const char *label, int32_t vocab_size,
                          qmc_tokenizer **out) {
    *out = NULL;
    if (size < 4) return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer file too short (%zu bytes)", label, size);
    if (vocab_size == 0) { /* as many tokens as the file holds, up to its end */
        size_t pos = 4;
        while (size - pos >= 8 && vocab_size < (1 << 24)) {
            int32_t len;
            memcpy(&len, buf + pos + 4, 4);
            if (len < 0 || (size_t)len > size - pos - 8) break;
            pos += 8 + (size_t)len;
            vocab_size++;
        }
        if (pos != size)
            return qmc_fail(QMC_ERR_FORMAT, "%s: not a llama2.c tokenizer (%zu stray bytes after token %d)", label, size - pos, vocab_size);
    }
    if (vocab_size <= 0 || vocab_size > (1 << 24))
        return qmc_fail(QMC_ERR_FORMAT, "%s: bad vocabulary size %d", label, vocab_size);
    /* each token needs at least 8 bytes: reject impossible counts before allocating */
    if ((uint64_t)vocab_size > (size - 4) / 8)
        return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer file of %zu bytes cannot hold %d tokens (wrong tokenizer for this model?)",
                        label, size, vocab_size);
    int32_t max_len;
    memcpy(&max_len, buf, 4);
    if (max_len <= 0 || max_len > 65536)
        return qmc_fail(QMC_ERR_FORMAT, "%s: bad max_token_length %d", label, max_len);
    const char **pieces = qmc_alloc((size_t)vocab_size, sizeof(char *));
    int32_t *lens = qmc_alloc((size_t)vocab_size, sizeof(int32_t));
    float *scores = qmc_alloc((size_t)vocab_size, sizeof(float));
    int32_t *types = qmc_alloc((size_t)vocab_size, sizeof(int32_t));
    char *conv = NULL;
    int rc = QMC_OK;
    if (!pieces || !lens || !scores || !types) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    size_t pos = 4, conv_len = 0;
    for (int32_t i = 0; i < vocab_size; i++) {
        int32_t len;
        if (size - pos < 8) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: truncated tokenizer (token %d of %d)", label, i, vocab_size);
            goto done;
        }
        memcpy(&scores[i], buf + pos, 4);
        memcpy(&len, buf + pos + 4, 4);
        pos += 8;
        if (len < 0 || len > max_len || (size_t)len > size - pos) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: token %d has bad length %d (max %d, %zu bytes left)", label, i, len,
                          max_len, size - pos);
            goto done;
        }
        pieces[i] = (const char *)buf + pos;
        lens[i] = len;
        pos += (size_t)len;
        conv_len += (size_t)len * 3;
    }
    /* llama2.c writes SentencePiece's "▁" as a plain space; store the GGUF form */
    conv = qmc_alloc(conv_len + 1, 1);
    if (!conv) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    size_t cpos = 0;
    for (int32_t i = 0; i < vocab_size; i++) {
        const char *src = pieces[i];
        int32_t n = lens[i];
        pieces[i] = conv + cpos;
        size_t start = cpos;
        for (int32_t k = 0; k < n; k++) {
            if (src[k] == ' ') {
                memcpy(conv + cpos, k_space, 3);
                cpos += 3;
            } else conv[cpos++] = src[k];
        }
        lens[i] = (int32_t)(cpos - start);
        const char *p = pieces[i];
        if (lens[i] == 6 && memcmp(p, "<0x", 3) == 0 && p[5] == '>') types[i] = QMC_TT_BYTE;
        else if ((lens[i] == 3 && memcmp(p, "<s>", 3) == 0) || (lens[i] == 4 && memcmp(p, "</s>", 4) == 0))
            types[i] = QMC_TT_CONTROL;
        else if (lens[i] == 5 && memcmp(p, "<unk>", 5) == 0) types[i] = QMC_TT_UNKNOWN;
        else types[i] = QMC_TT_NORMAL;
    }
    rc = qmc_tok_create(QMC_TOK_SPM, vocab_size, pieces, lens, scores, types, out);
    if (rc) {
        qmc_error_prefix(rc, "%s", label);
        goto done;
    }
    /* llama2.c convention: 0 <unk>, 1 <s>, 2 </s> */
    (*out)->unk_id = 0;
    (*out)->bos_id = vocab_size > 1 ? 1 : -1;
    (*out)->eos_id = vocab_size > 2 ? 2 : -1;
    (*out)->add_bos = true;
done:
    qmc_free(pieces);
    qmc_free(lens);
    qmc_free(scores);
    qmc_free(types);
    qmc_free(conv);
    return rc;
}

int qmc_tok_load_llama2c(const char *path, int32_t vocab_size, qmc_tokenizer **out) {
    qmc_mapped_file f;
    int rc = qmc_map_file(path, &f);
    if (rc) return rc;
    rc = qmc_tok_parse_llama2c(f.data, f.size, path, vocab_size, out);
    qmc_unmap_file(&f);
    return rc;
}

/* ---- GGUF vocabulary ------------------------------------------------------ */

static const gguf_kv *arr_kv(const gguf_ctx *g, const char *key, gguf_type t) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->arr_type != t) return NULL;
    return kv;
}

int qmc_tok_from_gguf(const gguf_ctx *g, const char *label, qmc_tokenizer **out) {
    *out = NULL;
    char model[32] = "";
    if (!gguf_get_str(g, "tokenizer.ggml.model", model, sizeof model)) return QMC_OK; /* no vocabulary */
    qmc_tok_kind kind;
    if (strcmp(model, "llama") == 0) kind = QMC_TOK_SPM;
    else if (strcmp(model, "gpt2") == 0) kind = QMC_TOK_BPE;
    else return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tokenizer model '%s' is not supported (llama, gpt2)", label, model);
    const gguf_kv *tk = arr_kv(g, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    if (!tk) return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer.ggml.tokens missing or not a string array", label);
    if (tk->arr_n == 0 || tk->arr_n > (1u << 24))
        return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", label, (unsigned long long)tk->arr_n);
    int32_t n = (int32_t)tk->arr_n;
    const gguf_kv *sk = gguf_find(g, "tokenizer.ggml.scores");
    const gguf_kv *ty = gguf_find(g, "tokenizer.ggml.token_type");
    if (sk && (sk->type != GGUF_TYPE_ARRAY || sk->arr_type != GGUF_TYPE_FLOAT32 || sk->arr_n != tk->arr_n))
        return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer.ggml.scores must be %d f32 values", label, n);
    if (ty && (ty->type != GGUF_TYPE_ARRAY || ty->arr_type != GGUF_TYPE_INT32 || ty->arr_n != tk->arr_n))
        return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer.ggml.token_type must be %d i32 values", label, n);
    const char **pieces = qmc_alloc((size_t)n, sizeof(char *));
    int32_t *lens = qmc_alloc((size_t)n, sizeof(int32_t));
    float *scores = sk ? qmc_alloc((size_t)n, sizeof(float)) : NULL;
    int32_t *types = ty ? qmc_alloc((size_t)n, sizeof(int32_t)) : NULL;
    int rc = QMC_OK;
    if (!pieces || !lens || (sk && !scores) || (ty && !types)) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    for (int32_t i = 0; i < n; i++) {
        if (tk->arr_str[i].len > (1u << 20)) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: token %d is %llu bytes long", label, i, (unsigned long long)tk->arr_str[i].len);
            goto done;
        }
        pieces[i] = tk->arr_str[i].s;
        lens[i] = (int32_t)tk->arr_str[i].len;
    }
    if (sk) memcpy(scores, sk->arr_data, (size_t)n * 4);
    if (ty) memcpy(types, ty->arr_data, (size_t)n * 4);
    rc = qmc_tok_create(kind, n, pieces, lens, scores, types, out);
    if (rc) {
        qmc_error_prefix(rc, "%s", label);
        goto done;
    }
    qmc_tokenizer *t = *out;
    snprintf(t->model_name, sizeof t->model_name, "%s", model);
    int64_t v;
    if (gguf_get_i64(g, "tokenizer.ggml.bos_token_id", &v) && v >= 0 && v < n) t->bos_id = (int32_t)v;
    if (gguf_get_i64(g, "tokenizer.ggml.eos_token_id", &v) && v >= 0 && v < n) t->eos_id = (int32_t)v;
    if (gguf_get_i64(g, "tokenizer.ggml.unknown_token_id", &v) && v >= 0 && v < n) t->unk_id = (int32_t)v;
    if (gguf_get_i64(g, "tokenizer.ggml.padding_token_id", &v) && v >= 0 && v < n) t->pad_id = (int32_t)v;
    bool b;
    t->add_bos = kind == QMC_TOK_SPM;
    if (gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b)) t->add_bos = b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b)) t->add_space_prefix = b;
    qmc_tok_guess_specials(t);
    if (kind == QMC_TOK_BPE) {
        const gguf_kv *mk = arr_kv(g, "tokenizer.ggml.merges", GGUF_TYPE_STRING);
        if (!mk) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: gpt2 tokenizer without tokenizer.ggml.merges", label);
            goto fail_tok;
        }
        char pre[32] = "default";
        gguf_get_str(g, "tokenizer.ggml.pre", pre, sizeof pre);
        const char **m = qmc_alloc(mk->arr_n ? mk->arr_n : 1, sizeof(char *));
        int32_t *ml = qmc_alloc(mk->arr_n ? mk->arr_n : 1, sizeof(int32_t));
        if (!m || !ml) {
            qmc_free(m);
            qmc_free(ml);
            rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
            goto fail_tok;
        }
        for (uint64_t i = 0; i < mk->arr_n; i++) {
            m[i] = mk->arr_str[i].s;
            ml[i] = (int32_t)QMC_MIN(mk->arr_str[i].len, (uint64_t)INT32_MAX);
        }
        snprintf(t->pre, sizeof t->pre, "%s", pre);
        rc = qmc_bpe_init(t, m, ml, (int64_t)mk->arr_n, pre);
        qmc_free(m);
        qmc_free(ml);
        if (rc) {
            qmc_error_prefix(rc, "%s", label);
            goto fail_tok;
        }
    }
    goto done;
fail_tok:
    qmc_tok_free(*out);
    *out = NULL;
done:
    qmc_free(pieces);
    qmc_free(lens);
    qmc_free(scores);
    qmc_free(types);
    return rc;
}

int qmc_tok_to_gguf(const qmc_tokenizer *t, gguf_writer *w) {
    int32_t n = t->n_vocab;
    const char **pieces = qmc_alloc((size_t)n, sizeof(char *));
    uint64_t *lens = qmc_alloc((size_t)n, sizeof(uint64_t));
    int rc = QMC_ERR_NOMEM;
    if (!pieces || !lens) goto done;
    for (int32_t i = 0; i < n; i++) {
        pieces[i] = t->arena + t->piece_off[i];
        lens[i] = (uint64_t)t->piece_len[i];
    }
    if ((rc = gguf_set_str(w, "tokenizer.ggml.model", t->model_name)) ||
        (rc = gguf_set_arr_str(w, "tokenizer.ggml.tokens", pieces, lens, (uint64_t)n)) ||
        (rc = gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, t->scores, (uint64_t)n)) ||
        (rc = gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, t->types, (uint64_t)n)))
        goto done;
    if (t->bos_id >= 0 && (rc = gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)t->bos_id))) goto done;
    if (t->eos_id >= 0 && (rc = gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)t->eos_id))) goto done;
    if (t->unk_id >= 0 && (rc = gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)t->unk_id))) goto done;
    if (t->pad_id >= 0 && (rc = gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)t->pad_id))) goto done;
    if ((rc = gguf_set_bool(w, "tokenizer.ggml.add_bos_token", t->add_bos))) goto done;
    if (t->kind == QMC_TOK_SPM) rc = gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", t->add_space_prefix);
    else rc = qmc_bpe_to_gguf(t, w);
done:
    qmc_free(pieces);
    qmc_free(lens);
    return rc;
}

/* ---- SPM encoding ---------------------------------------------------------- */

typedef struct { int64_t prev, next; int64_t start, len; } sym_t;     /* a piece of the text */
/* Candidate merges queue as (score of the merged piece, left symbol, merged length). */

static int utf8_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) return 2;
    if ((c & 0xf0) == 0xe0) return 3;
    if ((c & 0xf8) == 0xf0) return 4;
    return 1; /* invalid lead byte: one byte on its own */
}

static int try_pair(const qmc_tokenizer *t, const char *s, const sym_t *sym, int64_t left, qmc_pqueue *h) {
    if (left < 0 || sym[left].next < 0) return QMC_OK;
    int64_t right = sym[left].next;
    int64_t len = sym[left].len + sym[right].len;
    int32_t id = qmc_strmap_get(&t->map, s + sym[left].start, (uint32_t)len);
    if (id < 0) return QMC_OK;
    return qmc_pq_push(h, (qmc_pq_item){t->scores[id], left, (uint64_t)len});
}

int qmc_tok_encode_spm(const qmc_tokenizer *t, const char *text, size_t len, int32_t **out, int64_t *n_out) {
    /* normalised text: optional "▁" prefix, spaces -> "▁" */
    size_t cap = len * 3 + 4;
    char *s = qmc_alloc(cap, 1);
    sym_t *sym = NULL;
    qmc_pqueue h = {0};
    int32_t *toks = NULL;
    int rc = QMC_OK;
    if (!s) return QMC_ERR_NOMEM;
    size_t sl = 0;
    if (t->add_space_prefix && len > 0) {
        memcpy(s, k_space, 3);
        sl = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(s + sl, k_space, 3);
            sl += 3;
        } else s[sl++] = text[i];
    }
    /* symbols: one per UTF-8 character */
    sym = qmc_alloc(sl + 1, sizeof(sym_t));
    if (!sym) {
        rc = QMC_ERR_NOMEM;
        goto done;
    }
    int64_t ns = 0;
    for (size_t i = 0; i < sl;) {
        int64_t cl = utf8_len((unsigned char)s[i]);
        if ((size_t)cl > sl - i) cl = (int64_t)(sl - i);
        sym[ns] = (sym_t){ns - 1, -1, (int64_t)i, cl};
        if (ns > 0) sym[ns - 1].next = ns;
        ns++;
        i += (size_t)cl;
    }
    /* Merge word by word when no piece crosses a word start (a "▁" after
     * another character): merges in different words then never interact, so
     * the result is that of one heap over the whole text, with small heaps. */
    for (int64_t w0 = 0, w1; w0 < ns; w0 = w1) {
        w1 = w0 + 1;
        if (t->spm_word_merges)
            while (w1 < ns && !(sym[w1].len == 3 && memcmp(s + sym[w1].start, k_space, 3) == 0 &&
                                !(sym[w1 - 1].len == 3 && memcmp(s + sym[w1 - 1].start, k_space, 3) == 0)))
                w1++;
        else w1 = ns;
        for (int64_t i = w0; i + 1 < w1; i++)
            if ((rc = try_pair(t, s, sym, i, &h))) goto done;
        while (h.n > 0) {
            qmc_pq_item p = qmc_pq_pop(&h);
            sym_t *L = &sym[p.pos];
            /* stale if either side changed since the pair was queued */
            if (L->len == 0 || L->next < 0 || (uint64_t)(L->len + sym[L->next].len) != p.aux) continue;
            sym_t *R = &sym[L->next];
            L->len += R->len;
            L->next = R->next;
            if (R->next >= 0) sym[R->next].prev = p.pos;
            R->len = 0;
            if ((rc = try_pair(t, s, sym, L->prev, &h)) || (rc = try_pair(t, s, sym, p.pos, &h))) goto done;
        }
    }
    /* emit: a piece id per symbol, or its bytes */
    toks = qmc_alloc(sl + 1, sizeof(int32_t));
    if (!toks) {
        rc = QMC_ERR_NOMEM;
        goto done;
    }
    int64_t nt = 0;
    for (int64_t i = ns ? 0 : -1; i >= 0; i = sym[i].next) {
        if (sym[i].len == 0) continue;
        int32_t id = qmc_strmap_get(&t->map, s + sym[i].start, (uint32_t)sym[i].len);
        if (id >= 0) {
            toks[nt++] = id;
            continue;
        }
        for (int64_t k = 0; k < sym[i].len; k++) {
            int32_t b = t->byte_tokens[(unsigned char)s[sym[i].start + k]];
            toks[nt++] = b >= 0 ? b : (t->unk_id >= 0 ? t->unk_id : 0);
        }
    }
    *out = toks;
    *n_out = nt;
    toks = NULL;
done:
    qmc_free(s);
    qmc_free(sym);
    qmc_pq_free(&h);
    qmc_free(toks);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------- */

int qmc_tok_encode(const qmc_tokenizer *t, const char *text, size_t len, bool bos, int32_t **out, int64_t *n) {
    int32_t *body = NULL;
    int64_t nb = 0;
    *out = NULL;
    *n = 0;
    int rc = t->kind == QMC_TOK_SPM ? qmc_tok_encode_spm(t, text, len, &body, &nb)
                                    : qmc_tok_encode_bpe(t, text, len, &body, &nb);
    if (rc) return rc;
    if (!bos || t->bos_id < 0) {
        *out = body;
        *n = nb;
        return QMC_OK;
    }
    int32_t *all = qmc_alloc((size_t)nb + 1, sizeof(int32_t));
    if (!all) {
        qmc_free(body);
        return QMC_ERR_NOMEM;
    }
    all[0] = t->bos_id;
    if (nb) memcpy(all + 1, body, (size_t)nb * sizeof(int32_t));
    qmc_free(body);
    *out = all;
    *n = nb + 1;
    return QMC_OK;
}

int qmc_tok_decode(const qmc_tokenizer *t, int32_t prev, int32_t tok, char *buf, int cap) {
    if (tok < 0 || tok >= t->n_vocab || cap <= 0) return 0;
    if (t->kind == QMC_TOK_BPE) return qmc_tok_decode_bpe(t, tok, buf, cap);
    int32_t len;
    const char *p = qmc_tok_piece(t, tok, &len);
    if (t->types[tok] == QMC_TT_CONTROL || t->types[tok] == QMC_TT_UNKNOWN) return 0;
    if (t->types[tok] == QMC_TT_BYTE) {
        for (int b = 0; b < 256; b++)
            if (t->byte_tokens[b] == tok) {
                buf[0] = (char)b;
                return 1;
            }
        return 0;
    }
    int w = 0;
    for (int32_t i = 0; i < len && w < cap;) {
        if (i + 3 <= len && memcmp(p + i, k_space, 3) == 0) {
            /* SentencePiece drops the space that starts the text (after BOS) */
            if (!(w == 0 && i == 0 && (prev == t->bos_id || prev < 0) && t->add_space_prefix)) buf[w++] = ' ';
            i += 3;
        } else buf[w++] = p[i++];
    }
    return w;
}

/* ---- public wrappers ---------------------------------------------------- */

int qmc_tokenize(const qmc_tokenizer *t, const char *text, size_t len, bool bos, int32_t **tokens, int64_t *n_out) {
    return qmc_tok_encode(t, text, len, bos, tokens, n_out);
}
void qmc_free_tokens(int32_t *tokens) { qmc_free(tokens); }
int qmc_token_to_text(const qmc_tokenizer *t, int32_t prev, int32_t tok, char *buf, int cap) {
    return qmc_tok_decode(t, prev, tok, buf, cap);
}
int qmc_tokenizer_vocab_size(const qmc_tokenizer *t) { return t->n_vocab; }
