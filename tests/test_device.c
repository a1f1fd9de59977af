/* test_device.c — device profiles: loading and validation, Gaussian level
 * arithmetic against independent references, cell mapping and encodings,
 * the injected error rate over 10^7 cells, the p_minus/p_plus derivation and
 * the t-distribution statistics of the Monte Carlo. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/cellmap.h"
#include "device/inject.h"
#include "device/profile.h"
#include "eval/stats.h"
#include "testutil.h"

/* ---- independent references: tests/data/device_reference.py (mpmath, 60 digits) ---- */
static const double k_nvmexplorer_2b_thr[] = {0.079578109237201219, 0.56948554050978404, 0.96858685389750031};
static const double k_nvmexplorer_2b_conf[][4] = {{1.0, 1.088652947051106e-20, 0, 0},
 {4.308116891880085e-20, 0.999999982950512, 1.704948799978587e-8, 2.3401365667963668e-68},
 {9.377471140805898e-122, 1.3858970551955726e-8, 0.99999998614102945, 1.0258845933583237e-19},
 {0, 0, 1.2421922779188836e-20, 1.0}};

static const double k_nvmexplorer_3b_thr[] = {0.031135658189845796, 0.11949902462532096, 0.29036119199077321, 0.47352038369423527, 0.62780433839592275, 0.79331903796770483, 0.98807587436466533};
static const double k_nvmexplorer_3b_conf[][8] = {{0.99985294046080155, 0.00014705953919845456, 3.3850273495766839e-44, 3.4535353765094398e-250, 0, 0, 0, 0},
 {0.00023822819959125227, 0.99862432645902958, 0.0011374453413791709, 6.6411354844326963e-56, 1.0610225248628611e-188, 0, 0, 0},
 {6.7446632829301688e-9, 0.002776600945586224, 0.99501954814980025, 0.0022038441599502402, 3.5799154451883565e-19, 1.6288838575646116e-44, 4.5016478983186053e-84, 4.6029743966435137e-147},
 {2.5083046174650617e-26, 1.2516418410157241e-15, 0.0024533290424053009, 0.99357348301516179, 0.0039731879422378703, 1.9378713167236427e-13, 1.5433107789426779e-34, 7.5365150557747407e-73},
 {1.2791530232480269e-94, 2.0608655364808717e-65, 1.6439914753691377e-24, 0.0028434613691295181, 0.9968822279532533, 0.00027431067761718188, 2.0374118887346612e-24, 1.3262893759335668e-72},
 {1.853110541784334e-140, 2.3309788170219662e-107, 3.8790787465193331e-56, 6.6645442906005943e-20, 0.0003053143027796783, 0.99521805291880583, 0.0044766327784144878, 1.2178281979572519e-22},
 {3.4547515064299503e-117, 1.1740262381126312e-94, 5.0621491586945059e-58, 6.9480587637582458e-29, 1.913437501149445e-12, 0.0063136367844025033, 0.99062641142099453, 0.0030599517926895337},
 {0, 0, 0, 0, 0, 0, 0.00022651303156639966, 0.9997734869684336}};

static const double k_wan2022_1s_2b_thr[] = {1.867183169452675, 20.951419443159177, 34.644196437864398};
static const double k_wan2022_1s_2b_conf[][4] = {{0.99999995963039915, 4.036960085193351e-8, 0, 0},
 {2.8399597288598139e-7, 0.99955473121758028, 0.00044498478644683735, 7.2722146289845122e-21},
 {4.9997015256856699e-50, 0.00031692965220801042, 0.9996821452637868, 9.250840051864275e-7},
 {3.3400832275056947e-262, 3.9714092243686046e-67, 5.999030782036129e-7, 0.9999994000969218}};

static const double k_wan2022_1s_3b_thr[] = {1.074234937165055, 8.4321662606680143, 14.317072220552244, 20.10852422308023, 25.859647097782203, 31.576938056147084, 37.401133251466846};
static const double k_wan2022_1s_3b_conf[][8] = {{0.99898866065171582, 0.0010113393482841815, 5.3258900156309519e-130, 0, 0, 0, 0, 0},
 {0.0065055761612074688, 0.9206145669602152, 0.072877788723226716, 2.0681553440311723e-6, 6.5866926699863252e-15, 2.0872863287966899e-27, 7.0803535108795476e-44, 8.1805649732723691e-65},
 {3.2108027128340823e-6, 0.095821558814498543, 0.80010486481538989, 0.10399269762289316, 7.7667784223339148e-5, 1.6028223478034891e-10, 8.1838154901445026e-19, 5.3553970729219409e-30},
 {6.4468104719826162e-14, 2.9669393453028554e-5, 0.096322455700337347, 0.81785139688681179, 0.085767160347940888, 2.9317657108912836e-5, 1.4283564842717135e-11, 4.8811900726370861e-21},
 {8.4639263372442654e-32, 5.2953300232166902e-15, 2.3519564576282572e-6, 0.070333847973392688, 0.8758968718465198, 0.05376545064419753, 1.4775794238618755e-6, 3.2013841899122789e-15},
 {2.4164650109462614e-67, 4.359114395012185e-37, 1.5180775404127997e-19, 5.0755048965970939e-8, 0.044006092134575788, 0.92666574497078964, 0.029328098239369102, 1.3900216504712726e-8},
 {1.7228251265942818e-128, 9.616871715559237e-79, 7.8376873850459051e-48, 4.2455569471635787e-25, 4.9496715643947093e-10, 0.024733390046730776, 0.96333936602967411, 0.011927243428627962},
 {4.0620201681346766e-273, 1.8956039899713762e-180, 3.1741827371964599e-120, 5.2714999292511591e-73, 6.342964285023333e-38, 1.1160120892322679e-14, 0.0092319794540201441, 0.9907680205459687}};

static const double k_wan2022_1d_2b_thr[] = {2.3416427212725326, 20.241995250554079, 34.102852426622381};
static const double k_wan2022_1d_2b_conf[][4] = {{0.99958175895021511, 0.00041824104978489073, 1.1990975300633142e-183, 0},
 {0.002769967262123272, 0.95660284899980604, 0.040627104033996509, 7.970407417601758e-8},
 {4.293453673686102e-12, 0.035654791153535588, 0.94592138252132753, 0.018423826320843428},
 {4.244460924683586e-46, 4.5607366390847477e-14, 0.013057435675018555, 0.98694256432493584}};

static void load(const char *name, int bits, qmc_cell_model *c) {
    qmc_device_profile p;
    qmc_device_name_sel sel;
    int rc = qmc_device_load(name, NULL, &p, &sel);
    if (rc) fail_msg("%s", qmc_errmsg());
    if (!bits) bits = sel.cell_bits;
    rc = qmc_device_cell_model(&p, bits, sel.retention_s, c);
    if (rc) fail_msg("%s", qmc_errmsg());
}

/* |got - want| <= 1e-9 |want|, or both below the double range */
static void assert_close_rel(double got, double want, const char *what, int i, int j) {
    if (want == 0) {
        if (!(fabs(got) < 1e-290)) fail_msg("%s[%d][%d] = %.17g, want < 1e-290", what, i, j, got);
        return;
    }
    if (!(fabs(got - want) <= 1e-9 * fabs(want)))
        fail_msg("%s[%d][%d] = %.17g, want %.17g (rel err %.3g)", what, i, j, got, want, fabs(got - want) / fabs(want));
}

static void check_against_reference(const char *name, int bits, const double *thr, const double *conf) {
    qmc_cell_model c;
    load(name, bits, &c);
    const int L = 1 << bits;
    assert_int_equal(c.n_levels, L);
    for (int i = 0; i < L - 1; i++) assert_close_rel(c.threshold[i], thr[i], "threshold", i, 0);
    for (int w = 0; w < L; w++) {
        double sum = 0, off = 0;
        for (int r = 0; r < L; r++) {
            assert_close_rel(c.confusion[w][r], conf[w * L + r], name, w, r);
            sum += c.confusion[w][r];
            if (r != w) off += conf[w * L + r];
        }
        assert_true(fabs(sum - 1) < 1e-15);
        /* the misread rate of each level, summed from the reference's off-diagonal */
        assert_close_rel(c.err[w], off, "err", w, 0);
    }
}

static void test_confusion_matches_reference(void **state) {
    check_against_reference("nvmexplorer", 2, k_nvmexplorer_2b_thr, &k_nvmexplorer_2b_conf[0][0]);
    check_against_reference("nvmexplorer", 3, k_nvmexplorer_3b_thr, &k_nvmexplorer_3b_conf[0][0]);
    check_against_reference("wan2022-1s", 2, k_wan2022_1s_2b_thr, &k_wan2022_1s_2b_conf[0][0]);
    check_against_reference("wan2022-1s", 3, k_wan2022_1s_3b_thr, &k_wan2022_1s_3b_conf[0][0]);
    check_against_reference("wan2022-1d", 2, k_wan2022_1d_2b_thr, &k_wan2022_1d_2b_conf[0][0]);
}

static void test_normal_and_intersection(void **state) {
    /* mpmath: Phi(1.96) and Phi(-5) */
    assert_true(fabs(qmc_normal_cdf(1.96, 0, 1) - 0.97500210485177956) < 1e-15);
    assert_true(fabs(qmc_normal_cdf(-5, 0, 1) / 2.8665157187919391e-7 - 1) < 1e-13);
    assert_true(fabs(qmc_normal_sf(5, 0, 1) / 2.8665157187919391e-7 - 1) < 1e-13);
    assert_true(fabs(qmc_normal_cdf(3.5, 2.5, 0.5) - 0.97724986805182079) < 1e-15);
    /* equal sigmas: the midpoint exactly */
    double x;
    assert_true(qmc_gaussian_intersection(1.0, 0.2, 2.0, 0.2, &x));
    assert_true(x == 1.5);
    /* unequal sigmas: equal densities at x (checked with the density formula) */
    assert_true(qmc_gaussian_intersection(0.3846, 0.0335, 0.7217, 0.0274, &x));
    double f1 = exp(-0.5 * pow((x - 0.3846) / 0.0335, 2)) / 0.0335, f2 = exp(-0.5 * pow((x - 0.7217) / 0.0274, 2)) / 0.0274;
    assert_true(fabs(f1 / f2 - 1) < 1e-9);
    /* nearly equal sigmas: close to the midpoint, no cancellation blow-up */
    assert_true(qmc_gaussian_intersection(0, 1.0, 1, 1.0 + 1e-13, &x));
    assert_true(fabs(x - 0.5) < 1e-9);
    /* no crossing between the means: a wide level whose neighbour is narrower and close */
    assert_false(qmc_gaussian_intersection(0, 10, 1, 5, &x));
}

static void test_midpoint_rule_and_stuck_at(void **state) {
    const char *json =
        "{\"qmc_device_profile\": 1, \"name\": \"t\", \"sources\": [\"test\"],"
        " \"reram\": {\"model\": \"gaussian\", \"thresholds\": \"midpoint\","
        "  \"cells\": [{\"bits\": 1, \"means\": [0, 1], \"sigmas\": [0.2, 0.4]}]},"
        " \"stuck_at_0\": 0.01, \"stuck_at_1\": 0.02}";
    qmc_device_profile p;
    assert_int_equal(qmc_device_parse(json, strlen(json), "t.json", &p), 0);
    qmc_cell_model c;
    assert_int_equal(qmc_device_cell_model(&p, 1, 0, &c), 0);
    assert_true(c.threshold[0] == 0.5);
    /* by hand: P(N(0, 0.2) > 0.5) = Q(2.5), P(N(1, 0.4) < 0.5) = Phi(-1.25) (mpmath values) */
    const double q25 = 0.0062096653257761351, p125 = 0.10564977366685526;
    const double keep = 1 - 0.01 - 0.02;
    assert_true(fabs(c.confusion[0][1] - (keep * q25 + 0.02)) < 1e-15);
    assert_true(fabs(c.confusion[0][0] - (keep * (1 - q25) + 0.01)) < 1e-15);
    assert_true(fabs(c.confusion[1][0] - (keep * p125 + 0.01)) < 1e-15);
    assert_true(fabs(c.err[1] - (keep * p125 + 0.01)) < 1e-15);
    assert_int_not_equal(qmc_device_cell_model(&p, 2, 0, &c), 0);
    assert_non_null(strstr(qmc_errmsg(), "no model for 2-bit cells"));
    assert_int_not_equal(qmc_device_cell_model(&p, 1, 3600, &c), 0);
    assert_non_null(strstr(qmc_errmsg(), "no retention-time data"));
}

static void test_ideal_and_confusion_profiles(void **state) {
    qmc_cell_model c;
    for (int b = 1; b <= 4; b++) {
        load("ideal", b, &c);
        for (int w = 0; w < c.n_levels; w++) {
            assert_true(c.confusion[w][w] == 1.0);
            assert_true(c.err[w] == 0.0);
        }
    }
    load("iedm2019-1t4r", 2, &c);
    assert_true(c.confusion[0][1] == 0.0312 && c.confusion[1][0] == 0.0156 && c.confusion[3][2] == 0.0312);
    for (int w = 0; w < 4; w++) assert_true(fabs(c.err[w] - 0.0312) < 1e-15);
}

static void test_retention_time(void **state) {
    qmc_device_profile p;
    qmc_device_name_sel sel;
    assert_int_equal(qmc_device_load("wan2022", NULL, &p, &sel), 0);
    qmc_cell_model a, b, m;
    assert_int_equal(qmc_device_cell_model(&p, 2, 1, &a), 0);
    assert_int_equal(qmc_device_cell_model(&p, 2, 86400, &b), 0);
    assert_int_equal(qmc_device_cell_model(&p, 2, 3600, &m), 0);
    /* sigma at level 1 (g = 40/3 uS) by hand from the two polynomials, linear in log t */
    double x = 1.0 / 3;
    double s1 = 0.348 + 16.030 * x - 43.853 * x * x + 45.393 * pow(x, 3) - 16.815 * pow(x, 4);
    double sd = 0.701 + 22.086 * x - 50.773 * x * x + 47.095 * pow(x, 3) - 16.458 * pow(x, 4);
    assert_true(fabs(a.sigma[1] - s1) < 1e-12 && fabs(b.sigma[1] - sd) < 1e-12);
    double f = log(3600.0) / log(86400.0);
    assert_true(fabs(m.sigma[1] - ((1 - f) * s1 + f * sd)) < 1e-12);
    assert_true(m.err[1] > a.err[1] && m.err[1] < b.err[1]);
    assert_int_not_equal(qmc_device_cell_model(&p, 2, 1e6, &m), 0);
    assert_non_null(strstr(qmc_errmsg(), "outside the profile's data"));
}

static void test_names_and_search(void **state) {
    qmc_device_profile p;
    qmc_device_name_sel sel;
    assert_int_equal(qmc_device_load("nvmexplorer-3b", NULL, &p, &sel), 0);
    assert_string_equal(p.name, "nvmexplorer");
    assert_int_equal(sel.cell_bits, 3);
    assert_true(sel.retention_s == 0);
    assert_int_equal(qmc_device_load("wan2022-1s-2b", NULL, &p, &sel), 0);
    assert_int_equal(sel.cell_bits, 2);
    assert_true(sel.retention_s == 1);
    assert_int_equal(qmc_device_load("wan2022-1d-3b", NULL, &p, &sel), 0);
    assert_true(sel.retention_s == 86400 && sel.cell_bits == 3);
    assert_int_equal(qmc_device_load("wan2022-2d", NULL, &p, &sel), 0);
    assert_true(sel.retention_s == 172800 && sel.cell_bits == 0);
    /* unknown names and junk are clear errors listing what exists */
    assert_int_not_equal(qmc_device_load("nosuchdevice", NULL, &p, &sel), 0);
    assert_non_null(strstr(qmc_errmsg(), "unknown device profile 'nosuchdevice'"));
    assert_non_null(strstr(qmc_errmsg(), "nvmexplorer"));
    assert_int_not_equal(qmc_device_load("../../etc/passwd-x", NULL, &p, &sel), 0);
    assert_int_not_equal(qmc_device_load("nvmexplorer-9b", NULL, &p, &sel), 0);
    /* a directory given first shadows the built-in copy; a path loads directly */
    const char *dir = tu_tmp("devices");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(tu_run(NULL, "%s", cmd), 0);
    const char *mine = "{\"qmc_device_profile\": 1, \"name\": \"mine\", \"sources\": [\"my bench, 2026\"],"
                       " \"reram\": {\"model\": \"confusion\", \"cells\": [{\"bits\": 1, \"matrix\": [[0.9, 0.1], [0.2, 0.8]]}]}}";
    char path[512];
    snprintf(path, sizeof path, "%s/ideal.json", dir);
    assert_int_equal(qmc_write_file_atomic(path, mine, strlen(mine)), 0);
    assert_int_equal(qmc_device_load("ideal", dir, &p, &sel), 0);
    assert_string_equal(p.name, "mine");
    assert_int_equal(qmc_device_load("ideal", NULL, &p, &sel), 0);
    assert_string_equal(p.name, "ideal");
    assert_int_equal(qmc_device_load(path, NULL, &p, &sel), 0);
    assert_string_equal(p.name, "mine");
    /* $QMC_DATA/devices */
    setenv("QMC_DATA", tu_tmpdir(), 1);
    assert_int_equal(qmc_device_load("ideal", NULL, &p, &sel), 0);
    assert_string_equal(p.name, "mine");
    char list[4096];
    qmc_device_list(NULL, list, sizeof list);
    assert_non_null(strstr(list, "wan2022\n"));
    unsetenv("QMC_DATA");
}

static void test_builtin_copies_match_files(void **state) {
    int n = 0;
    for (int i = 0; qmc_builtin_profiles[i].name; i++, n++) {
        char path[256], *buf;
        size_t len;
        snprintf(path, sizeof path, "data/devices/%s.json", qmc_builtin_profiles[i].name);
        if (qmc_read_file(tu_repo(path), 1 << 20, &buf, &len)) fail_msg("%s", qmc_errmsg());
        if (len != strlen(qmc_builtin_profiles[i].json) || memcmp(buf, qmc_builtin_profiles[i].json, len) != 0)
            fail_msg("%s differs from its built-in copy: run scripts/embed-profiles.sh", path);
        qmc_free(buf);
        qmc_device_profile p;
        if (qmc_device_parse(qmc_builtin_profiles[i].json, strlen(qmc_builtin_profiles[i].json), path, &p))
            fail_msg("%s", qmc_errmsg());
        assert_true(p.sources[0] != 0);
    }
    char *ls;
    tu_run(&ls, "ls data/devices/*.json | wc -l");
    assert_int_equal(atoi(ls), n);
    free(ls);
    assert_true(n >= 4);
}

/* Bad profiles: one-line errors naming the file and the problem. */
static void expect_bad(const char *json, const char *needle) {
    const char *path = tu_tmp("bad.json");
    assert_int_equal(qmc_write_file_atomic(path, json, strlen(json)), 0);
    qmc_device_profile p;
    int rc = qmc_device_read_file(path, &p);
    if (rc == 0) fail_msg("accepted: %s", json);
    const char *msg = qmc_errmsg();
    if (!strstr(msg, needle) || !strstr(msg, path) || strchr(msg, '\n'))
        fail_msg("message '%s' lacks '%s' or the path", msg, needle);
}

#define HEAD "{\"qmc_device_profile\": 1, \"name\": \"x\", \"sources\": [\"s\"], "
static void test_bad_profiles(void **state) {
    expect_bad("{\"qmc_device_profile\": 1, \"name\": ", "not valid JSON");
    expect_bad("[1, 2]", "must be a JSON object");
    expect_bad("{\"qmc_device_profile\": 2, \"name\": \"x\"}", "qmc_device_profile");
    expect_bad("{\"qmc_device_profile\": 1, \"name\": \"x\", \"reram\": {\"model\": \"ideal\"}}", "must cite");
    expect_bad(HEAD "\"reram\": {\"model\": \"magic\"}}", "not one of gaussian");
    /* names go into one-line messages; every source must say something */
    expect_bad("{\"qmc_device_profile\": 1, \"name\": \"\", \"sources\": [\"s\"], \"reram\": {\"model\": \"ideal\"}}",
               "name: must be non-empty text");
    expect_bad("{\"qmc_device_profile\": 1, \"name\": \"a\\nb\", \"sources\": [\"s\"], \"reram\": {\"model\": \"ideal\"}}",
               "without control characters");
    expect_bad("{\"qmc_device_profile\": 1, \"name\": \"x\", \"sources\": [\"s\", \"\"], \"reram\": {\"model\": \"ideal\"}}",
               "non-empty strings");
    expect_bad(HEAD "\"reram\": {\"model\": \"ideal\"}, \"stuck_at_2\": 0}", "unknown key");
    expect_bad(HEAD "\"reram\": {\"model\": \"gaussian\", \"cells\": [{\"bits\": 2, \"means\": [0, 1, 2], \"sigmas\": [1, 1, 1, 1]}]}}",
               "has 3 entries, expected 4");
    expect_bad(HEAD "\"reram\": {\"model\": \"gaussian\", \"cells\": [{\"bits\": 1, \"means\": [1, 0], \"sigmas\": [1, 1]}]}}",
               "must increase");
    expect_bad(HEAD "\"reram\": {\"model\": \"gaussian\", \"cells\": [{\"bits\": 1, \"means\": [0, 1], \"sigmas\": [0, 1]}]}}",
               "sigmas must be > 0");
    expect_bad(HEAD "\"reram\": {\"model\": \"gaussian\", \"cells\": [{\"bits\": 1, \"means\": [0, 1], \"sigmas\": [1, 1], \"sigma\": 2}]}}",
               "unknown key");
    expect_bad(HEAD "\"reram\": {\"model\": \"gaussian\", \"cells\": [{\"bits\": 5, \"means\": [0, 1], \"sigmas\": [1, 1]}]}}",
               "outside [1, 4]");
    expect_bad(HEAD "\"reram\": {\"model\": \"confusion\", \"cells\": [{\"bits\": 1, \"matrix\": [[0.9, 0.05], [0.2, 0.8]]}]}}",
               "sum to 0.95, not 1");
    expect_bad(HEAD "\"reram\": {\"model\": \"confusion\", \"cells\": [{\"bits\": 1, \"matrix\": [[1.1, -0.1], [0.2, 0.8]]}]}}",
               "not a probability");
    expect_bad(HEAD "\"reram\": {\"model\": \"confusion\", \"cells\": [{\"bits\": 1, \"matrix\": [[1, 0]]}]}}", "has 1 rows");
    expect_bad(HEAD "\"reram\": {\"model\": \"ideal\"}, \"stuck_at_0\": 0.7, \"stuck_at_1\": 0.6}", "exceeds 1");
    expect_bad(HEAD "\"reram\": {\"model\": \"ideal\"}, \"mram_ber\": 0.9}", "outside [0, 0.5]");
    expect_bad(HEAD "\"reram\": {\"model\": \"sigma_poly\", \"g_max\": 40, \"cell_bits\": [2], \"retention\": []}}",
               "retention");
    expect_bad(HEAD "\"reram\": {\"model\": \"sigma_poly\", \"g_max\": 40, \"cell_bits\": [2], "
                    "\"retention\": [{\"time_s\": 10, \"coeffs\": [1]}, {\"time_s\": 5, \"coeffs\": [1]}]}}",
               "must increase");
    /* a file that does not exist */
    qmc_device_profile p;
    assert_int_not_equal(qmc_device_read_file("/nonexistent/dev.json", &p), 0);
    assert_non_null(strstr(qmc_errmsg(), "/nonexistent/dev.json"));
    /* a polynomial that goes negative is caught when the cell model is built */
    const char *neg = HEAD "\"reram\": {\"model\": \"sigma_poly\", \"g_max\": 40, \"cell_bits\": [2], "
                           "\"retention\": [{\"time_s\": 1, \"coeffs\": [1, -5]}]}}";
    assert_int_equal(qmc_device_parse(neg, strlen(neg), "neg.json", &p), 0);
    qmc_cell_model c;
    assert_int_not_equal(qmc_device_cell_model(&p, 2, 0, &c), 0);
    assert_non_null(strstr(qmc_errmsg(), "not positive"));
}

/* ---- cell mapping ----------------------------------------------------------- */

static void test_encodings(void **state) {
    for (uint32_t bits = 1; bits <= 4; bits++)
        for (uint32_t l = 0; l < (1u << bits); l++) {
            assert_int_equal(qmc_value_to_level(qmc_level_to_value(l, QMC_ENC_GRAY), QMC_ENC_GRAY), l);
            assert_int_equal(qmc_level_to_value(l, QMC_ENC_BINARY), l);
            if (l + 1 < (1u << bits))
                assert_int_equal(__builtin_popcount(qmc_level_to_value(l, QMC_ENC_GRAY) ^ qmc_level_to_value(l + 1, QMC_ENC_GRAY)), 1);
        }
    /* 2-bit Gray by hand: levels 0..3 store 00, 01, 11, 10 */
    assert_int_equal(qmc_level_to_value(2, QMC_ENC_GRAY), 3);
    assert_int_equal(qmc_level_to_value(3, QMC_ENC_GRAY), 2);
}

static void test_two_bit_cells_round_trip(void **state) {
    /* 3-bit codes 5, 2 = stream bits 1,0,1, 0,1,0 -> cells (b0,b1)=1, (b2,b3)=1, (b4,b5)=1 */
    uint8_t s[16] = {0};
    qmc_bits_put(s, 0, 3, 5);
    qmc_bits_put(s, 3, 3, 2);
    assert_int_equal(qmc_cells_for_codes(2, 3, 2), 3);
    for (int j = 0; j < 3; j++) assert_int_equal(qmc_cell_level(s, j, 2, QMC_ENC_BINARY), 1);
    /* random codes -> cells -> a fresh stream rebuilt from the cell levels -> same codes */
    enum { N = 1001 };
    uint8_t codes[N], a[N * 3 / 8 + 16] = {0}, b[N * 3 / 8 + 16] = {0};
    for (int k = 0; k < N; k++) {
        codes[k] = (uint8_t)(qmc_rand_u64(42, (uint64_t)k) & 7);
        qmc_bits_put(a, (int64_t)k * 3, 3, codes[k]);
    }
    for (int enc = 0; enc < 2; enc++) {
        memset(b, 0, sizeof b);
        int64_t nc = qmc_cells_for_codes(N, 3, 2);
        assert_int_equal(nc, 1502);
        for (int64_t j = 0; j < nc; j++) qmc_cell_set_level(b, j, 2, (qmc_level_encoding)enc, qmc_cell_level(a, j, 2, (qmc_level_encoding)enc));
        for (int k = 0; k < N; k++) assert_int_equal(qmc_bits_get(b, (int64_t)k * 3, 3), codes[k]);
        int64_t hist[16] = {0};
        qmc_cell_level_hist(a, nc, 2, (qmc_level_encoding)enc, hist);
        assert_int_equal(hist[0] + hist[1] + hist[2] + hist[3], nc);
    }
}

static void test_cells_of_unpadded_planes(void **state) {
    /* scale planes carry no read padding: reading and rewriting every cell
     * of an exact-size buffer stays inside it (checked by ASan) */
    for (int cb = 1; cb <= 4; cb++) {
        const int64_t bytes = 3 * cb, n_cells = bytes * 8 / cb;
        uint8_t *p = qmc_alloc((size_t)bytes, 1);
        for (int64_t i = 0; i < bytes; i++) p[i] = (uint8_t)(0x5a + 17 * i);
        for (int64_t j = 0; j < n_cells; j++) {
            uint32_t v = qmc_cell_value(p, j, cb), want = 0;
            for (int t = 0; t < cb; t++) want |= (uint32_t)((p[(j * cb + t) >> 3] >> ((j * cb + t) & 7)) & 1) << t;
            assert_int_equal(v, want);
        }
        qmc_free(p);
    }
    /* a 1-bit cell that always flips: every bit of the plane inverted */
    qmc_cell_model flip;
    memset(&flip, 0, sizeof flip);
    flip.bits = 1;
    flip.n_levels = 2;
    flip.confusion[0][1] = flip.confusion[1][0] = 1;
    qmc_cell_model_finish(&flip);
    uint8_t *p = qmc_alloc(5, 1);
    memcpy(p, "\x01\x80\xff\x00\x5a", 5);
    assert_int_equal(qmc_noise_stream(p, 40, 1, QMC_ENC_BINARY, &flip, 3), 40);
    assert_memory_equal(p, "\xfe\x7f\x00\xff\xa5", 5);
    qmc_free(p);
}

static void test_single_cell_error_bits(void **state) {
    uint8_t s[16] = {0};
    /* binary: cell 1 (code 0 bit 2, code 1 bit 0) level 1 -> 2 flips both: code 0 5 -> 1 (-4 steps), code 1 2 -> 3 */
    qmc_bits_put(s, 0, 3, 5);
    qmc_bits_put(s, 3, 3, 2);
    qmc_cell_set_level(s, 1, 2, QMC_ENC_BINARY, 2);
    assert_int_equal(qmc_bits_get(s, 0, 3), 1);
    assert_int_equal(qmc_bits_get(s, 3, 3), 3);
    assert_int_equal(qmc_cell_level(s, 0, 2, QMC_ENC_BINARY), 1); /* neighbours untouched */
    assert_int_equal(qmc_cell_level(s, 2, 2, QMC_ENC_BINARY), 1);
    /* Gray: the same cell stores 01 = level 1; level 2 = 11 sets only code 1 bit 0 */
    memset(s, 0, sizeof s);
    qmc_bits_put(s, 0, 3, 5);
    qmc_bits_put(s, 3, 3, 2);
    assert_int_equal(qmc_cell_level(s, 1, 2, QMC_ENC_GRAY), 1);
    qmc_cell_set_level(s, 1, 2, QMC_ENC_GRAY, 2);
    assert_int_equal(qmc_bits_get(s, 0, 3), 5);
    assert_int_equal(qmc_bits_get(s, 3, 3), 3);
    /* 3-bit codes in 3-bit binary cells: one level = one code step */
    memset(s, 0, sizeof s);
    qmc_bits_put(s, 3, 3, 4);
    qmc_cell_set_level(s, 1, 3, QMC_ENC_BINARY, 3);
    assert_int_equal(qmc_bits_get(s, 3, 3), 3);
    assert_int_equal(qmc_bits_get(s, 0, 3), 0);
    assert_int_equal(qmc_bits_get(s, 6, 3), 0);
}

/* ---- the sampler ------------------------------------------------------------- */

/* Fill a stream with n_cells uniformly random levels. */
static uint8_t *random_cells(int64_t n_cells, int cb, uint64_t key) {
    size_t bytes = (size_t)((n_cells * cb + 7) / 8) + QMC_BITS_PAD;
    uint8_t *s = qmc_alloc(bytes, 1);
    for (size_t i = 0; i + QMC_BITS_PAD < bytes; i += 8) {
        uint64_t r = qmc_rand_u64(key, i);
        memcpy(s + i, &r, QMC_MIN(8, bytes - QMC_BITS_PAD - i));
    }
    /* clear spare bits past the last cell */
    for (int64_t b = n_cells * cb; b < (int64_t)(bytes * 8) && b < n_cells * cb + 64; b++) qmc_bits_put(s, b, 1, 0);
    return s;
}

static void check_rates(const char *profile, int cb, int64_t n_cells) {
    qmc_cell_model c;
    load(profile, cb, &c);
    uint8_t *clean = random_cells(n_cells, cb, 7);
    size_t bytes = (size_t)((n_cells * cb + 7) / 8) + QMC_BITS_PAD;
    uint8_t *s = qmc_alloc(bytes, 1);
    memcpy(s, clean, bytes);
    int64_t changed = qmc_noise_stream(s, n_cells, cb, QMC_ENC_BINARY, &c, 99);
    /* count independently: compare every cell */
    static int64_t n_w[16], trans[16][16];
    memset(n_w, 0, sizeof n_w);
    memset(trans, 0, sizeof trans);
    int64_t diff = 0;
    for (int64_t j = 0; j < n_cells; j++) {
        uint32_t w = qmc_cell_level(clean, j, cb, QMC_ENC_BINARY), r = qmc_cell_level(s, j, cb, QMC_ENC_BINARY);
        n_w[w]++;
        trans[w][r]++;
        diff += w != r;
    }
    assert_int_equal(diff, changed);
    /* total: within the 99.9% binomial interval of what the profile implies for these cells */
    double mean = 0, var = 0;
    for (int w = 0; w < c.n_levels; w++) {
        mean += (double)n_w[w] * c.err[w];
        var += (double)n_w[w] * c.err[w] * (1 - c.err[w]);
    }
    double z = ((double)diff - mean) / sqrt(var);
    print_message("%s %d-bit cells: %lld of %lld cells misread, expected %.1f (z = %.2f)\n", profile, cb, (long long)diff,
                  (long long)n_cells, mean, z);
    assert_true(fabs(z) < 3.29);
    /* each level, and each transition with enough expected events, within 4.5 sigma */
    for (int w = 0; w < c.n_levels; w++)
        for (int r = 0; r < c.n_levels; r++) {
            if (r == w) continue;
            double e = (double)n_w[w] * c.confusion[w][r];
            if (e < 50) {
                assert_true(trans[w][r] <= e + 6 * sqrt(e) + 6);
                continue;
            }
            double zz = ((double)trans[w][r] - e) / sqrt(e * (1 - c.confusion[w][r]));
            if (fabs(zz) > 4.5) fail_msg("%s: transition %d->%d %lld times, expected %.1f", profile, w, r, (long long)trans[w][r], e);
        }
    qmc_free(s);
    qmc_free(clean);
}

static void test_injected_rate_1e7_cells(void **state) {
    int64_t n = tu_quick() ? 1000000 : 10000000;
    check_rates("nvmexplorer", 3, n);
    check_rates("wan2022-1s", 3, n);
    check_rates("wan2022-1d", 2, n);
    check_rates("iedm2019-1t4r", 2, n);
}

static void test_sampler_determinism(void **state) {
    qmc_cell_model c;
    load("wan2022-1d", 2, &c);
    const int64_t n = 5 * QMC_NOISE_BLOCK_CELLS + 123;
    uint8_t *clean = random_cells(n, 2, 3);
    size_t bytes = (size_t)((n * 2 + 7) / 8) + QMC_BITS_PAD;
    uint8_t *a = qmc_alloc(bytes, 1), *b = qmc_alloc(bytes, 1);
    memcpy(a, clean, bytes);
    memcpy(b, clean, bytes);
    qmc_set_threads(1);
    int64_t ea = qmc_noise_stream(a, n, 2, QMC_ENC_GRAY, &c, 5);
    qmc_set_threads(2);
    int64_t eb = qmc_noise_stream(b, n, 2, QMC_ENC_GRAY, &c, 5);
    assert_int_equal(ea, eb);
    assert_memory_equal(a, b, bytes);
    memcpy(b, clean, bytes);
    qmc_noise_stream(b, n, 2, QMC_ENC_GRAY, &c, 6);   /* another key: other errors */
    assert_memory_not_equal(a, b, bytes);
    /* spare bits past the last cell are never touched */
    for (int64_t bit = n * 2; bit < (int64_t)bytes * 8; bit++) assert_int_equal((a[bit >> 3] >> (bit & 7)) & 1, 0);
    qmc_set_threads(0);
    /* an ideal cell changes nothing; a tiny rate over many cells stays tiny */
    load("ideal", 2, &c);
    memcpy(a, clean, bytes);
    assert_int_equal(qmc_noise_stream(a, n, 2, QMC_ENC_BINARY, &c, 1), 0);
    assert_memory_equal(a, clean, bytes);
    load("nvmexplorer", 2, &c);
    assert_true(qmc_noise_stream(a, n, 2, QMC_ENC_BINARY, &c, 1) <= 2);
    qmc_free(a);
    qmc_free(b);
    qmc_free(clean);
}

/* ---- p_minus / p_plus ------------------------------------------------------------ */

static void test_p_three_bit_cells_by_hand(void **state) {
    /* 3-bit codes in 3-bit binary cells: dq = r - w exactly */
    qmc_cell_model c;
    load("wan2022-1s", 3, &c);
    double pm = 0, pp = 0, pe = 0;
    for (int w = 0; w < 8; w++)
        for (int r = 0; r < 8; r++) {
            double d2 = (double)(r - w) * (r - w) * c.confusion[w][r] / 8;
            if (r < w) pm += d2;
            if (r > w) pp += d2;
            if (r != w) pe += c.confusion[w][r] / 8;
        }
    qmc_noise_p np;
    assert_int_equal(qmc_noise_p_derive(&c, QMC_ENC_BINARY, 3, NULL, &np), 0);
    assert_true(fabs(np.p_minus - pm) < 1e-12 * pm && fabs(np.p_plus - pp) < 1e-12 * pp);
    assert_true(fabs(np.p_code_error - pe) < 1e-12);
    /* with a code histogram: only code 4 (value 0) -> only level 4's row matters */
    double hist[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    assert_int_equal(qmc_noise_p_derive(&c, QMC_ENC_BINARY, 3, hist, &np), 0);
    double m4 = 0;
    for (int r = 0; r < 4; r++) m4 += (double)(r - 4) * (r - 4) * c.confusion[4][r];
    assert_true(fabs(np.p_minus - m4) < 1e-12 * m4);
    hist[4] = 0.5;
    assert_int_not_equal(qmc_noise_p_derive(&c, QMC_ENC_BINARY, 3, hist, &np), 0);
}

static void test_p_two_bit_cells_by_hand(void **state) {
    /* only error: level 1 -> 2 with probability p (binary: stored 01 -> 10).
     * Worked out in docs/device-noise.md: with q = p/4,
     * p_plus = (6 q (1-q) + 9 q^2) / 2, p_minus = (16 q (1-q) + 9 q^2) / 2, P(code error) = 1 - (1-q)^2 */
    const double p = 0.1, q = p / 4;
    qmc_cell_model c;
    memset(&c, 0, sizeof c);
    c.bits = 2;
    c.n_levels = 4;
    for (int w = 0; w < 4; w++) c.confusion[w][w] = 1;
    c.confusion[1][1] = 1 - p;
    c.confusion[1][2] = p;
    qmc_cell_model_finish(&c);
    qmc_noise_p np;
    assert_int_equal(qmc_noise_p_derive(&c, QMC_ENC_BINARY, 3, NULL, &np), 0);
    assert_true(fabs(np.p_plus - (6 * q * (1 - q) + 9 * q * q) / 2) < 1e-15);
    assert_true(fabs(np.p_minus - (16 * q * (1 - q) + 9 * q * q) / 2) < 1e-15);
    assert_true(fabs(np.p_code_error - (1 - (1 - q) * (1 - q))) < 1e-15);
    assert_true(fabs(np.cell_p_plus - p / 4) < 1e-15 && np.cell_p_minus == 0);
}

static void test_p_matches_simulation(void **state) {
    /* 3-bit codes in 2-bit Gray cells and 4-bit codes in 3-bit cells: the derived pair against injection + decoding */
    const struct { const char *prof; int cb, code_bits; qmc_level_encoding e; } cases[] = {
        {"wan2022-1d", 2, 3, QMC_ENC_GRAY}, {"wan2022-1d", 2, 3, QMC_ENC_BINARY}, {"wan2022-1s", 3, 4, QMC_ENC_BINARY}};
    const int64_t n_codes = tu_quick() ? 300000 : 2000000;
    for (size_t k = 0; k < QMC_ARRAY_LEN(cases); k++) {
        qmc_cell_model c;
        load(cases[k].prof, cases[k].cb, &c);
        const int b = cases[k].code_bits;
        size_t bytes = qmc_bits_bytes(n_codes, b);
        uint8_t *s = qmc_alloc(bytes, 1), *clean = qmc_alloc(bytes, 1);
        for (int64_t i = 0; i < n_codes; i++) qmc_bits_put(clean, i * b, b, (uint32_t)(qmc_rand_u64(11, (uint64_t)i) & ((1u << b) - 1)));
        memcpy(s, clean, bytes);
        qmc_noise_stream(s, qmc_cells_for_codes(n_codes, b, cases[k].cb), cases[k].cb, cases[k].e, &c, 12);
        double sm = 0, sp = 0, sm2 = 0, sp2 = 0;
        for (int64_t i = 0; i < n_codes; i++) {
            double d = (double)qmc_bits_get(s, i * b, b) - (double)qmc_bits_get(clean, i * b, b);
            if (d < 0) sm += d * d, sm2 += d * d * d * d;
            if (d > 0) sp += d * d, sp2 += d * d * d * d;
        }
        qmc_noise_p np;
        assert_int_equal(qmc_noise_p_derive(&c, cases[k].e, b, NULL, &np), 0);
        double n = (double)n_codes, em = sm / n, ep = sp / n;
        /* standard errors of the sample means (codes are nearly independent) */
        double se_m = sqrt((sm2 / n - em * em) / n), se_p = sqrt((sp2 / n - ep * ep) / n);
        print_message("%s %d-bit cells %d-bit codes %s: p_minus %.5g (sim %.5g), p_plus %.5g (sim %.5g)\n", cases[k].prof,
                      cases[k].cb, b, qmc_encoding_name(cases[k].e), np.p_minus, em, np.p_plus, ep);
        assert_true(fabs(np.p_minus - em) < 5 * se_m + 1e-12);
        assert_true(fabs(np.p_plus - ep) < 5 * se_p + 1e-12);
        qmc_free(s);
        qmc_free(clean);
    }
}

/* ---- statistics ------------------------------------------------------------------- */

static void test_student_t(void **state) {
    /* mpmath: betainc-based quantiles */
    const struct { double df, t; } q[] = {{1, 12.706204736174705}, {2, 4.3026527297494639}, {3, 3.1824463052837096},
                                          {9, 2.2621571627982055}, {29, 2.0452296421327043}, {1000, 1.9623390808264085}};
    for (size_t i = 0; i < QMC_ARRAY_LEN(q); i++) {
        double t = qmc_student_t_quantile(0.975, q[i].df);
        if (!(fabs(t - q[i].t) < 1e-10 * q[i].t)) fail_msg("t(0.975, %g) = %.17g, want %.17g", q[i].df, t, q[i].t);
        assert_true(fabs(qmc_student_t_cdf(q[i].t, q[i].df) - 0.975) < 1e-13);
        assert_true(fabs(qmc_student_t_quantile(0.025, q[i].df) + q[i].t) < 1e-10 * q[i].t);
    }
    assert_true(fabs(qmc_incomplete_beta(2.5, 0.5, 0.3) - 0.018927124071945652) < 1e-15);
    assert_true(fabs(qmc_incomplete_beta(1, 1, 0.37) - 0.37) < 1e-15);
    qmc_sample_stats s;
    const double x[] = {1, 2, 3, 4};
    qmc_sample_stats_compute(x, 4, 0.95, &s);
    assert_true(s.mean == 2.5 && fabs(s.sd - 1.2909944487358056) < 1e-15);
    assert_true(fabs(s.ci_hi - (2.5 + 3.1824463052837096 * 1.2909944487358056 / 2)) < 1e-9);
    qmc_sample_stats_compute(x, 1, 0.95, &s);
    assert_true(s.mean == 1 && s.sd == 0 && s.ci_lo == 1 && s.ci_hi == 1);
}

/* Retention times: units s/m/h/d, and nothing that is not a positive finite
 * number of seconds ("1e308d" is 8.64e312 s: inf; crash 10, docs/fuzzing.md). */
static void test_parse_time(void **state) {
    double t = 0;
    assert_true(qmc_device_parse_time("2h", true, &t) && t == 7200.0);
    assert_true(qmc_device_parse_time("1.5d", true, &t) && t == 129600.0);
    assert_true(qmc_device_parse_time("30", false, &t) && t == 30.0);
    assert_false(qmc_device_parse_time("30", true, &t));
    assert_false(qmc_device_parse_time("0s", true, &t));
    assert_false(qmc_device_parse_time("1e308d", true, &t));
    assert_false(qmc_device_parse_time("1e309", false, &t));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confusion_matches_reference),
        cmocka_unit_test(test_normal_and_intersection),
        cmocka_unit_test(test_midpoint_rule_and_stuck_at),
        cmocka_unit_test(test_ideal_and_confusion_profiles),
        cmocka_unit_test(test_retention_time),
        cmocka_unit_test(test_names_and_search),
        cmocka_unit_test(test_builtin_copies_match_files),
        cmocka_unit_test(test_bad_profiles),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_two_bit_cells_round_trip),
        cmocka_unit_test(test_cells_of_unpadded_planes),
        cmocka_unit_test(test_single_cell_error_bits),
        cmocka_unit_test(test_injected_rate_1e7_cells),
        cmocka_unit_test(test_sampler_determinism),
        cmocka_unit_test(test_p_three_bit_cells_by_hand),
        cmocka_unit_test(test_p_two_bit_cells_by_hand),
        cmocka_unit_test(test_p_matches_simulation),
        cmocka_unit_test(test_student_t),
        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
