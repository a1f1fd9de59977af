#!/bin/sh
# coverage.sh TARGET... — source line coverage of what each fuzz target's
# corpus reaches (built by `make fuzz-coverage`: clang source-based coverage,
# no sanitizers, in build-fuzz/cov/).  Each target runs once over its corpus:
# FUZZ_CORPUS/<target>/ plus the seeds fuzz/corpus/<target>/ (FUZZ_CORPUS
# defaults to build-fuzz/corpus, where fuzz/run.sh keeps what it found).
# Prints, per target, the lines covered in the functions that read its input
# (funcs_for below) and in the whole source files it exists for (files_for:
# these also hold writers and path-based code no buffer target reaches), and
# writes an HTML report to build-fuzz/cov/html/<target>/.
set -eu
cd "$(dirname "$0")/.."
B=build-fuzz/cov
CORPUS=${FUZZ_CORPUS:-build-fuzz/corpus}

# The sources a target is about (coverage of everything else is incidental).
files_for() {
    case "$1" in
    gguf) echo src/formats/gguf.c ;;
    gguf_model) echo src/model/gguf_model.c src/model/model.c src/quant/packfile.c ;;
    gguf_vocab) echo src/model/tokenizer.c src/model/tokenizer_bpe.c ;;
    packed) echo src/quant/packfile.c src/quant/qtensor.c src/engine/qdecode.c src/engine/qdecode_avx2.c src/engine/qdecode_avx512.c ;;
    device) echo src/device/profile.c src/device/levels.c ;;
    llama2c) echo src/model/llama2c.c ;;
    tokbin) echo src/model/tokenizer.c ;;
    tokenizer_json) echo src/model/tokenizer_hf.c src/model/tokenizer_bpe.c ;;
    safetensors|st_index) echo src/formats/safetensors.c ;;
    hf_config) echo src/model/hf_model.c src/formats/jsonfile.c ;;
    hf_dir) echo src/model/hf_model.c src/formats/safetensors.c src/model/tokenizer_hf.c ;;
    sim_tech) echo src/sim/tech.c ;;
    sim_config) echo src/sim/workload.c ;;
    tasks) echo src/eval/tasks.c src/eval/task_layouts.c ;;
    study_config) echo src/eval/study_config.c ;;
    *) ls src/*/*.c | grep -i "$(echo "$1" | sed 's/_.*//')" || true ;;
    esac
}

# The functions that read the target's input (entry point, static helpers,
# what uses the result), as llvm-cov names them: the "parser" column.
funcs_for() {
    case "$1" in
    gguf) echo 'gguf_parse|gguf\.c:rd_|gguf\.c:read_value|^gguf_find|^gguf_get_|ggml_tensor_nbytes|ggml_type_known|gguf_type_size|^gguf_free' ;;
    gguf_model) echo 'qmc_gguf_model_parse|gguf_model\.c:(get_u|get_f|load_tensor)|qmc_model_from_buffer|qmc_model_validate|model\.c:check_|qmc_config_finish|qmc_model_alloc_layers|qmc_model_free|qmc_packed_read|packfile\.c:|qmc_packed_parse_desc' ;;
    packed) echo 'qmc_packed_read|qmc_packed_parse_desc|packfile\.c:(plane|parse_fmt)|qmc_qt_finish|qtensor\.c:popcount_range|qmc_qt_decode_row_ref|qmc_qt_dequant_code|qmc_qt_plane_sizes|qmc_qt_free|qmc_qt_decode_|qmc_qt_dot_|qmc_qd_|qdecode_avx(2|512)\.c:' ;;
    device) echo 'qmc_device_parse|profile\.c:|qmc_device_cell_model|levels\.c:|qmc_cell_model_finish|qmc_gaussian_intersection' ;;
    gguf_vocab) echo 'qmc_tok_from_gguf|tokenizer\.c:arr_kv|qmc_tok_create|qmc_tok_guess_specials|qmc_bpe_init|tokenizer_bpe\.c:(compile_pattern|index_specials|byte_map|cmp_special)|qmc_tok_encode|qmc_tok_decode' ;;
    llama2c) echo 'qmc_llama2c_parse|llama2c\.c:(take|set_f32|take_layers)' ;;
    tokbin) echo 'qmc_tok_parse_llama2c|qmc_tok_create|qmc_tok_encode_spm|tokenizer\.c:(try_pair|utf8_len)|qmc_tok_decode' ;;
    tokenizer_json) echo 'qmc_tok_parse_hf|tokenizer_hf\.c:(tok_from_json|parse_pre|parse_normalizer|parse_merge|add_pattern|escape_literal|type_error|scores_from_merges|template_bos|find_piece)|qmc_bpe_init_patterns' ;;
    safetensors) echo '^st_parse|safetensors\.c:(parse_entry|json_uint|cmp_span)|^st_find|^st_free' ;;
    st_index) echo '^st_index_' ;;
    hf_config) echo 'qmc_hf_config_parse|hf_model\.c:(parse_config|parse_rope_scaling|token_id)|qmc_json_(parse|get_)' ;;
    hf_dir) echo 'qmc_load_safetensors|hf_model\.c:(open_weights|map_shard|find_hf|load_tensor|load_weights|parse_config|all_zero)|qmc_tok_load_hf|tokenizer_hf\.c:config_token' ;;
    sim_tech) echo 'sim_(memory|link|platform)_parse|tech\.c:(parse_file|parse_fields|get_string|known_extra_key|in_range|range_error|parse_calibration|validate_struct)|sim_hw_validate' ;;
    sim_config) echo 'sim_workload_from_hf_config|workload\.c:(cfg_|build_|begin_model|tensor_|layer_index|check_layer_lists|hymba_producer|in_int_list|plain_attention|add_tensor)' ;;
    tasks) echo 'qmc_task_parse|tasks\.c:detect_format|qmc_parse_(foundry|hellaswag|arc)|task_layouts\.c:|qmc_task_(add_|problem)|qmc_utf8_chars|qmc_hellaswag_preprocess' ;;
    *) echo '.' ;;
    esac
}

mkdir -p "$B/prof" "$B/html"
printf '%-16s %-30s %-30s %s\n' target "parser functions" "whole files" files
for t in "$@"; do
    dirs="fuzz/corpus/$t"
    [ -d "$CORPUS/$t" ] && dirs="$CORPUS/$t $dirs"
    rm -f "$B/prof/$t".*
    # shellcheck disable=SC2086
    LLVM_PROFILE_FILE="$B/prof/$t.%p.profraw" "$B/fuzz/$t" -runs=0 $dirs >"$B/prof/$t.log" 2>&1 ||
        { echo "$t: replay failed, see $B/prof/$t.log" >&2; exit 1; }
    llvm-profdata-14 merge -sparse "$B/prof/$t".*.profraw -o "$B/prof/$t.profdata"
    files=$(files_for "$t")
    # shellcheck disable=SC2086
    summary=$(llvm-cov-14 report "$B/fuzz/$t" -instr-profile="$B/prof/$t.profdata" $files | tail -1)
    # TOTAL regions missed cover functions missed executed lines missed cover ...
    whole=$(echo "$summary" | awk '{printf "%d of %d lines (%s)", $8 - $9, $8, $10}')
    # shellcheck disable=SC2086
    parser=$(llvm-cov-14 report -show-functions "$B/fuzz/$t" -instr-profile="$B/prof/$t.profdata" $files |
        awk -v re="$(funcs_for "$t")" '$1 ~ re && NF >= 7 {l += $5; m += $6} END {printf "%d of %d lines (%.1f%%)", l - m, l, l ? 100 * (l - m) / l : 0}')
    printf '%-16s %-30s %-30s %s\n' "$t" "$parser" "$whole" "$(echo $files | tr '\n' ' ')"
    # shellcheck disable=SC2086
    llvm-cov-14 show "$B/fuzz/$t" -instr-profile="$B/prof/$t.profdata" -format=html -output-dir="$B/html/$t" $files >/dev/null
done
