/* test_tasks.c — loading zero-shot tasks: the shipped files parse completely
 * (exact counts and lm-eval's prompts), hand-made files in each layout,
 * malformed lines (line numbers, --strict), unknown tasks, and the HellaSwag
 * preprocessing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/tasks.h"
#include "testutil.h"

static const char *write_file(const char *name, const char *text) {
    const char *p = tu_tmp(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *ctx_of(const qmc_task_set *t, int64_t e, int i) {
    return qmc_task_text(t, qmc_task_opt(t, &t->examples[e], i)->context);
}
static const char *cont_of(const qmc_task_set *t, int64_t e, int i) {
    return qmc_task_text(t, qmc_task_opt(t, &t->examples[e], i)->continuation);
}

/* ---- shipped files ------------------------------------------------------------ */

static qmc_task_set *load_named(const char *name, const char *dir) {
    qmc_task_load_opts o = {0};
    o.data_dir = dir;
    o.strict = true; /* every line must be valid */
    qmc_task_set *t = NULL;
    int rc = qmc_task_load(name, &o, &t);
    if (rc) fail_msg("%s: %s", name, qmc_errmsg());
    return t;
}

static void test_shipped_counts(void **state) {
    TU_REQUIRE_SHARED(dir, "data/zeroshot");
    static const struct { const char *name; int64_t n; qmc_task_kind kind; int options; } want[] = {
        {"piqa", 1838, QMC_TASK_CHOICE, 2},       {"arc_easy", 2376, QMC_TASK_CHOICE, 0},
        {"arc_challenge", 1172, QMC_TASK_CHOICE, 0}, {"winogrande", 1267, QMC_TASK_PARTIAL, 2},
        {"boolq", 3270, QMC_TASK_CHOICE, 2},      {"openbookqa", 500, QMC_TASK_CHOICE, 4},
        {"lambada", 5153, QMC_TASK_TARGET, 1},    {"hellaswag", 10042, QMC_TASK_CHOICE, 4},
    };
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        qmc_task_set *t = load_named(want[k].name, dir);
        assert_int_equal(t->n_examples, want[k].n);
        assert_int_equal(t->n_skipped, 0);
        assert_int_equal(t->kind, want[k].kind);
        assert_int_equal(qmc_task_find(want[k].name)->expected, want[k].n);
        for (int64_t e = 0; e < t->n_examples; e++) {
            const qmc_task_example *ex = &t->examples[e];
            if (want[k].options) assert_int_equal(ex->n_options, want[k].options);
            assert_true(ex->gold >= 0 && ex->gold < ex->n_options);
            for (int i = 0; i < ex->n_options; i++) {
                const char *c = cont_of(t, e, i);
                assert_true(c[0] == ' ' && c[1] != 0); /* lm-eval's target delimiter */
                assert_true(qmc_task_opt(t, ex, i)->norm_chars > 0);
            }
        }
        qmc_task_free(t);
    }
}

static void test_shipped_prompts(void **state) {
    TU_REQUIRE_SHARED(dir, "data/zeroshot");
    /* HellaSwag: ctx_b capitalized, " " + ending */
    qmc_task_set *t = load_named("hellaswag", dir);
    assert_string_equal(ctx_of(t, 0, 0), "Roof shingle removal: A man is sitting on a roof. He");
    assert_string_equal(cont_of(t, 0, 0), " is using wrap to wrap a pair of skis.");
    assert_int_equal(t->examples[0].gold, 3);
    assert_string_equal(ctx_of(t, 1, 0),
                        "Clean and jerk: A lady walks to a barbell. She bends down and grabs the pole. The lady");
    assert_int_equal(t->examples[1].line, 7);
    /* no bracket left anywhere (lm-eval drops "[...]") */
    for (int64_t e = 0; e < t->n_examples; e++)
        for (int i = 0; i < 4; i++) {
            const char *c = cont_of(t, e, i);
            if (strchr(ctx_of(t, e, i), '[') && strchr(strchr(ctx_of(t, e, i), '['), ']'))
                fail_msg("hellaswag example %lld keeps a [..] in its context", (long long)e);
            if (strstr(c + 1, "  ")) fail_msg("hellaswag example %lld: double space in an ending", (long long)e);
        }
    assert_true(t->report_acc_norm);
    qmc_task_free(t);

    /* ARC: "Question: ...\nAnswer:", gold from answerKey, numeric labels too */
    t = load_named("arc_easy", dir);
    assert_string_equal(ctx_of(t, 0, 0),
                        "Question: Which statement best explains why photosynthesis is the foundation of most food "
                        "webs?\nAnswer:");
    assert_string_equal(cont_of(t, 0, 0), " Sunlight is the source of energy for nearly all ecosystems.");
    assert_int_equal(t->examples[1].gold, 1);
    int n3 = 0, n5 = 0;
    for (int64_t e = 0; e < t->n_examples; e++) n3 += t->examples[e].n_options == 3, n5 += t->examples[e].n_options == 5;
    assert_int_equal(n3, 7);
    assert_int_equal(n5, 4);
    qmc_task_free(t);

    /* BoolQ: "Passage: " dropped, "\nAnswer:" added, " no"/" yes" */
    t = load_named("boolq", dir);
    assert_true(strncmp(ctx_of(t, 0, 0), "All biomass goes through", 24) == 0);
    assert_true(qmc_ends_with(ctx_of(t, 0, 0),
                              "\nQuestion: does ethanol take more energy make that produces?\nAnswer:"));
    assert_string_equal(cont_of(t, 0, 0), " no");
    assert_string_equal(cont_of(t, 0, 1), " yes");
    assert_int_equal(t->examples[1].gold, 1);
    assert_false(t->report_acc_norm);
    qmc_task_free(t);

    t = load_named("piqa", dir);
    assert_string_equal(ctx_of(t, 1, 0), "Question: dresser\nAnswer:");
    assert_string_equal(cont_of(t, 1, 1), " finish, woodgrain with  bobby pin");
    qmc_task_free(t);

    /* WinoGrande: one context per option, the shared continuation */
    t = load_named("winogrande", dir);
    assert_string_equal(ctx_of(t, 0, 0), "Sarah was a much better surgeon than Maria so Sarah");
    assert_string_equal(ctx_of(t, 0, 1), "Sarah was a much better surgeon than Maria so Maria");
    assert_string_equal(cont_of(t, 0, 0), " always got the easier cases.");
    assert_string_equal(cont_of(t, 0, 1), " always got the easier cases.");
    assert_int_equal(t->examples[0].gold, 1);
    assert_false(t->report_acc_norm);
    qmc_task_free(t);

    t = load_named("openbookqa", dir);
    assert_string_equal(ctx_of(t, 1, 0), "There is most likely going to be fog around:");
    assert_string_equal(cont_of(t, 1, 0), " a marsh");
    qmc_task_free(t);

    t = load_named("lambada", dir);
    assert_true(qmc_ends_with(ctx_of(t, 0, 0), "I don't care about"));
    assert_string_equal(cont_of(t, 0, 0), " signs");
    qmc_task_free(t);

    /* the llm-foundry ARC file as a plain FILE: query as is, layout detected */
    char path[4096];
    snprintf(path, sizeof path, "%s/llm-foundry/arc_easy.jsonl", dir);
    assert_int_equal(qmc_task_load_file(path, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, true, &t), 0);
    assert_int_equal(t->format, QMC_TASK_FMT_FOUNDRY);
    assert_int_equal(t->n_examples, 2376);
    assert_true(strncmp(ctx_of(t, 0, 0), "Question: Which statement", 25) == 0);
    qmc_task_free(t);
    snprintf(path, sizeof path, "%s/hellaswag/hellaswag_val_full.txt", dir);
    assert_int_equal(qmc_task_load_file(path, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, true, &t), 0);
    assert_int_equal(t->format, QMC_TASK_FMT_HELLASWAG);
    qmc_task_free(t);
}

/* ---- hand-made files ------------------------------------------------------------ */

static void test_foundry_layouts(void **state) {
    const char *p = write_file("mc.jsonl",
                               "{\"query\": \"Q1\", \"choices\": [\"a\", \"bbbbbbbbbb\"], \"gold\": 1}\n"
                               "\n"
                               "{\"query\": \"Q2 \", \"choices\": [\"x\", \"\\u00e9t\\u00e9\", \"z\"], \"gold\": 0}\r\n");
    qmc_task_set *t = NULL;
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, true, &t), 0);
    assert_int_equal(t->kind, QMC_TASK_CHOICE);
    assert_int_equal(t->n_examples, 2);
    assert_int_equal(t->examples[1].line, 3);
    assert_string_equal(ctx_of(t, 0, 0), "Q1");
    assert_string_equal(cont_of(t, 0, 1), " bbbbbbbbbb");
    /* acc_norm divides by the choice without the delimiter, in characters; acc_bytes in bytes */
    assert_int_equal(qmc_task_opt(t, &t->examples[0], 0)->norm_chars, 1);
    assert_int_equal(qmc_task_opt(t, &t->examples[0], 1)->norm_chars, 10);
    assert_int_equal(qmc_task_opt(t, &t->examples[1], 1)->norm_chars, 3);
    assert_int_equal(qmc_task_opt(t, &t->examples[1], 1)->norm_bytes, 5);
    assert_string_equal(ctx_of(t, 1, 0), "Q2 "); /* trailing space kept; moved at tokenization */
    assert_int_equal(t->options[2].context, t->options[3].context); /* one context string per example */
    qmc_task_free(t);

    p = write_file("wino.jsonl", "{\"context_options\": [\"A ran\", \"B ran\"], \"continuation\": \"home.\", \"gold\": 1}\n");
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_AS_IS, true, &t), 0);
    assert_int_equal(t->kind, QMC_TASK_PARTIAL);
    assert_string_equal(ctx_of(t, 0, 1), "B ran");
    assert_string_equal(cont_of(t, 0, 1), " home.");
    assert_int_equal(qmc_task_opt(t, &t->examples[0], 0)->norm_chars, 5); /* lm-eval: the partial context */
    assert_false(t->report_acc_norm);
    qmc_task_free(t);

    p = write_file("lamb.jsonl", "{\"context\": \"It was a\", \"continuation\": \"dog\"}\n");
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, true, &t), 0);
    assert_int_equal(t->kind, QMC_TASK_TARGET);
    assert_string_equal(cont_of(t, 0, 0), " dog");
    qmc_task_free(t);

    /* prompt transforms of the named tasks */
    p = write_file("boolq.jsonl", "{\"query\": \"Passage: P.\\nQuestion: is it?\", \"choices\": [\"no\", \"yes\"], \"gold\": 1}\n");
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_BOOLQ, true, &t), 0);
    assert_string_equal(ctx_of(t, 0, 0), "P.\nQuestion: is it?\nAnswer:");
    qmc_task_free(t);
    assert_int_not_equal(qmc_task_load_file(p, QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_PIQA, true, &t), 0);
    assert_non_null(strstr(qmc_errmsg(), "boolq.jsonl:1: PIQA query"));
    p = write_file("piqa.jsonl", "{\"query\": \"Question: g\\n\", \"choices\": [\"s1\", \"s2\"], \"gold\": 0}\n");
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_PIQA, true, &t), 0);
    assert_string_equal(ctx_of(t, 0, 0), "Question: g\nAnswer:");
    qmc_task_free(t);
}

static void test_malformed_lines(void **state) {
    const char *p = write_file("bad.jsonl",
                               "{\"query\": \"ok1\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n"   /* 1 */
                               "{\"query\": \"broken\", \"choices\": [\"a\", \n"                     /* 2 */
                               "{\"query\": \"no gold\", \"choices\": [\"a\", \"b\"]}\n"             /* 3 */
                               "{\"query\": \"gold 2\", \"choices\": [\"a\", \"b\"], \"gold\": 2}\n" /* 4 */
                               "{\"query\": \"ok2\", \"choices\": [\"a\", \"b\"], \"gold\": 1}\n"   /* 5 */
                               "{\"query\": \"empty\", \"choices\": [\"a\", \"\"], \"gold\": 1}\n"  /* 6 */
                               "{\"query\": \"one\", \"choices\": [\"a\"], \"gold\": 0}\n"          /* 7 */
                               "{\"context\": \"mixed\", \"continuation\": \"x\"}\n"                /* 8 */
                               "[1, 2]\n"                                                           /* 9 */
                               "{\"query\": \"g\", \"choices\": \"ab\", \"gold\": 0.5}\n"           /* 10 */
                               "{\"query\": \"ok3\", \"choices\": [\"a\", \"b\"], \"gold\": 0} x\n" /* 11 */
                               "{\"query\": \"ok4\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n"    /* 12 */
                               "{\"query\": \"big\", \"choices\": [\"a\", \"b\"], \"gold\": 1e300}\n"); /* 13 */
    qmc_task_set *t = NULL;
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, false, &t), 0);
    assert_int_equal(t->n_examples, 3);
    assert_int_equal(t->n_skipped, 10);
    assert_int_equal(t->examples[1].line, 5);
    assert_int_equal(t->examples[2].line, 12);
    const char *pr = t->problems.s;
    static const char *expect[] = {":2: not valid JSON", ":3: no \"gold\"", ":4: \"gold\" must be an integer in [0, 2)",
                                   ":6: \"choices\"[1] is empty", ":7: \"choices\" has 1 entries",
                                   ":8: a context/continuation example in a file of query/choices examples",
                                   ":9: not a JSON object", ":10: \"choices\" is not an array",
                                   ":11: characters after the JSON object", ":13: \"gold\" must be an integer"};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        char want[300];
        snprintf(want, sizeof want, "%s%s", p, expect[i]);
        if (!strstr(pr, want)) fail_msg("missing problem '%s' in:\n%s", want, pr);
    }
    qmc_task_free(t);
    /* strict: the first bad line is the error */
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, true, &t), QMC_ERR_FORMAT);
    assert_null(t);
    char want[300];
    snprintf(want, sizeof want, "%s:2: not valid JSON", p);
    assert_non_null(strstr(qmc_errmsg(), want));

    /* only bad lines; an empty file */
    p = write_file("allbad.jsonl", "nonsense\n{\"query\": 1}\n");
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_AS_IS, false, &t), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "no valid examples (2 bad"));
    p = write_file("empty.jsonl", "");
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, false, &t), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "no examples"));
    assert_int_not_equal(qmc_task_load_file(tu_tmp("missing.jsonl"), QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, false, &t), 0);
    assert_non_null(strstr(qmc_errmsg(), "missing.jsonl: cannot open"));
}

static void test_hellaswag_layout(void **state) {
    const char *p = write_file("hs.txt",
                               "Act: A man sits. he stands UP\n0\nend a\nend [step] b\n [title] end c\nend d\n"
                               "Act2: Done.\n7\nx\ny\nz\nw\n"
                               "Act3: [header] How to x [title] Do y.\n2\ne1\ne2\ne3\ne4\n"
                               "Act5: ok.\n1\ne1\n[title]\ne3\ne4\n"
                               "Act4: tail\n1\nonly three\n");
    qmc_task_set *t = NULL;
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, false, &t), 0);
    assert_int_equal(t->format, QMC_TASK_FMT_HELLASWAG);
    assert_int_equal(t->n_examples, 2);
    assert_int_equal(t->n_skipped, 3);
    /* ctx_b capitalized (str.capitalize lower-cases the rest) */
    assert_string_equal(ctx_of(t, 0, 0), "Act: A man sits. He stands up");
    assert_string_equal(cont_of(t, 0, 1), " end b");
    /* lm-eval strips before removing tags: a leading "[title]" leaves its space */
    assert_string_equal(cont_of(t, 0, 2), "  end c");
    /* lm-eval strips before removing tags, so a leading tag leaves a space */
    assert_string_equal(ctx_of(t, 1, 0), "Act3: How to x. Do y.");
    assert_int_equal(t->examples[1].line, 13);
    char want[300];
    snprintf(want, sizeof want, "%s:8: gold label must be 0, 1, 2 or 3", p);
    assert_non_null(strstr(t->problems.s, want));
    snprintf(want, sizeof want, "%s:22: ending 1 is empty after preprocessing", p);
    assert_non_null(strstr(t->problems.s, want));
    snprintf(want, sizeof want, "%s:25: incomplete example: 3 of 6 lines", p);
    assert_non_null(strstr(t->problems.s, want));
    qmc_task_free(t);
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_HELLASWAG, QMC_PROMPT_AS_IS, true, &t), QMC_ERR_FORMAT);
    snprintf(want, sizeof want, "%s:8: gold label", p);
    assert_non_null(strstr(qmc_errmsg(), want));
}

static void test_preprocess(void **state) {
    char out[128];
    static const char *cases[][2] = {
        {"  a [title] b  ", "a. b"},        /* strip; " [title]" -> ". ", "  " -> " " */
        {"[header] How to x", " How to x"}, /* strip happens first: the space stays */
        {"x [step] y", "x y"},
        {"a   b", "a  b"},                  /* Python's replace is one non-overlapping pass */
        {"keep [ this", "keep [ this"},     /* unmatched bracket kept */
        {"a [b] [c]d", "a d"},
        {"[[x]] y", "] y"},                 /* non-greedy: "[[x]" goes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        qmc_hellaswag_preprocess(cases[i][0], strlen(cases[i][0]), out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    assert_int_equal(qmc_utf8_chars("\xc3\xa9t\xc3\xa9", 5), 3);
    assert_int_equal(qmc_utf8_chars("\xe2\x96\x81", 3), 1);
}

static void test_arc_layout(void **state) {
    const char *p = write_file("arc.jsonl",
                               "{\"id\":\"a\",\"question\":\"Q?\",\"choices\":{\"text\":[\"x\",\"y\",\"z\"],\"label\":[\"1\",\"2\",\"3\"]},\"answerKey\":\"3\"}\n"
                               "{\"id\":\"b\",\"question\":\"Q2\",\"choices\":{\"text\":[\"x\",\"y\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"C\"}\n"
                               "{\"id\":\"c\",\"question\":\"Q3\",\"choices\":{\"text\":[\"x\",\"y\"],\"label\":[\"A\"]},\"answerKey\":\"A\"}\n"
                               "{\"id\":\"d\",\"question\":\"Q4\",\"choices\":{\"text\":[\"p\",\"q\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"B\"}\n");
    qmc_task_set *t = NULL;
    assert_int_equal(qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, false, &t), 0);
    assert_int_equal(t->format, QMC_TASK_FMT_ARC);
    assert_int_equal(t->n_examples, 2);
    assert_int_equal(t->examples[0].gold, 2);
    assert_int_equal(t->examples[1].gold, 1);
    assert_string_equal(ctx_of(t, 0, 0), "Question: Q?\nAnswer:");
    assert_string_equal(cont_of(t, 1, 0), " p");
    char want[300];
    snprintf(want, sizeof want, "%s:2: answerKey \"C\" is not one of the labels", p);
    assert_non_null(strstr(t->problems.s, want));
    snprintf(want, sizeof want, "%s:3: \"choices\".\"label\" is not an array of 2 labels", p);
    assert_non_null(strstr(t->problems.s, want));
    qmc_task_free(t);
}

/* Every prefix of valid files, and bytes flipped in them, load or fail cleanly
 * (the sanitizer build checks the "cleanly"). */
static void test_truncated_and_corrupt(void **state) {
    static const char *good[] = {
        "{\"query\": \"Q\", \"choices\": [\"a\", \"b\"], \"gold\": 1}\n"
        "{\"context_options\": [\"x\", \"y\"], \"continuation\": \"z\", \"gold\": 0}\n",
        "Act: A man sits. he\n2\nend [a] b\n [title] c\nd\ne\nB: c\n0\n1\n2\n3\n4\n",
        "{\"question\":\"Q\",\"choices\":{\"text\":[\"x\",\"y\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"B\"}\n",
    };
    char buf[512];
    for (size_t g = 0; g < sizeof good / sizeof *good; g++) {
        size_t n = strlen(good[g]);
        for (size_t k = 0; k <= n; k++)
            for (int flip = 0; flip < 2; flip++) {
                memcpy(buf, good[g], n + 1);
                buf[k] = 0;                                       /* a prefix */
                if (flip && k > 0) buf[(k * 7) % k] ^= (char)0x5b; /* and a corrupted byte */
                const char *p = write_file("cut.txt", buf);
                for (int strict = 0; strict < 2; strict++) {
                    qmc_task_set *t = NULL;
                    int rc = qmc_task_load_file(p, QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, strict, &t);
                    assert_true(rc == 0 || rc == QMC_ERR_FORMAT);
                    assert_true(rc == 0 ? t && t->n_examples > 0 : t == NULL);
                    if (!rc)
                        for (int64_t i = 0; i < t->n_options; i++) assert_true(t->options[i].norm_chars > 0);
                    qmc_task_free(t);
                }
            }
    }
}

static void test_unknown_task(void **state) {
    qmc_task_set *t = NULL;
    qmc_task_load_opts o = {0};
    assert_int_equal(qmc_task_load("no_such_task", &o, &t), QMC_ERR_ARG);
    assert_null(t);
    assert_non_null(strstr(qmc_errmsg(), "unknown task 'no_such_task'"));
    assert_non_null(strstr(qmc_errmsg(), "hellaswag"));
    /* a named task whose data directory lacks the file */
    o.data_dir = tu_tmpdir();
    assert_int_equal(qmc_task_load("arc-e", &o, &t), QMC_ERR_IO);
    assert_non_null(strstr(qmc_errmsg(), "arc-hf/ARC-Easy-test.jsonl: cannot open"));
    assert_non_null(qmc_task_find("lambada_openai"));
    assert_string_equal(qmc_task_find("arc-c")->name, "arc_challenge");
    assert_null(qmc_task_find("arc"));
}

static void test_cli_errors(void **state) {
    char *out = NULL;
    int st = tu_run(&out, "%s eval --task no_such_task --show 1", tu_qmc());
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "qmc eval: unknown task 'no_such_task'"));
    free(out);
    const char *p = write_file("cli_bad.jsonl", "{\"query\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n{oops\n"
                                                "{\"query\": \"r\", \"choices\": [\"a\", \"b\"], \"gold\": 1}\n");
    st = tu_run(&out, "%s eval --task %s --show 5", tu_qmc(), p);
    assert_int_equal(st, 0);
    char want[300];
    snprintf(want, sizeof want, "qmc eval: warning: %s:2: not valid JSON", p);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "\"context\":\"r\""));
    free(out);
    st = tu_run(&out, "%s eval --task %s --strict --show 5", tu_qmc(), p);
    assert_int_equal(st, 1);
    snprintf(want, sizeof want, "qmc eval: %s:2: not valid JSON", p);
    assert_non_null(strstr(out, want));
    free(out);
    st = tu_run(&out, "%s eval --task %s --format csv", tu_qmc(), p);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "--format must be"));
    free(out);
    st = tu_run(&out, "%s eval --task %s", tu_qmc(), p);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "no model given"));
    free(out);
    st = tu_run(&out, "%s eval -m x --limit 0 --task %s", tu_qmc(), p);
    assert_int_equal(st, 2);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_counts),  cmocka_unit_test(test_shipped_prompts),
        cmocka_unit_test(test_foundry_layouts), cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_hellaswag_layout), cmocka_unit_test(test_preprocess),
        cmocka_unit_test(test_arc_layout),      cmocka_unit_test(test_truncated_and_corrupt),
        cmocka_unit_test(test_unknown_task),
        cmocka_unit_test(test_cli_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
