// train.cpp — the training loop of the reference recipe (../shared/reference-model.md):
// sample a batch, forward, backward, clip, AdamW at the scheduled learning rate; log every
// step to metrics.jsonl, evaluate at intervals, checkpoint, and write summary.json at the end.
//
// Run folder (--out DIR): metrics.jsonl (one JSON object per step), checkpoint.bin (the latest
// state, written atomically), summary.json (written once, when the schedule is complete).
#include "glulab/train.h"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "glulab/autograd.h"
#include "glulab/buffer_pool.h"
#include "glulab/fileio.h"
#include "glulab/json.h"
#include "glulab/profile.h"
#include "glulab/train_state.h"

namespace glulab {

uint64_t init_seed(uint64_t seed) { return seed; }
// A different stream from the same user seed (the golden-ratio constant spreads the bits).
uint64_t sampler_seed(uint64_t seed) { return seed ^ 0x9E3779B97F4A7C15ull; }

double evaluate(const Model& model, const std::vector<Batch>& batches) {
    NoGradGuard no_grad;
    double total = 0.0;  // summed loss over every prediction, in double
    size_t predictions = 0;
    for (const Batch& b : batches) {
        const size_t n = static_cast<size_t>(b.B) * b.T;
        total += static_cast<double>(model.loss(b.tokens, b.targets, b.B, b.T).item()) * n;
        predictions += n;
    }
    return total / static_cast<double>(predictions);
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---- interruption: the first SIGINT/SIGTERM asks for a clean stop, a second one kills ----
volatile std::sig_atomic_t g_stop_requested = 0;  // set only by the signal handler below
extern "C" void request_stop(int sig) {
    g_stop_requested = 1;
    std::signal(sig, SIG_DFL);  // the next signal of this kind takes the default action: exit now
}

class SignalScope {  // installs the handlers for the duration of a training run
public:
    SignalScope() {
        g_stop_requested = 0;
        old_int_ = std::signal(SIGINT, request_stop);
        old_term_ = std::signal(SIGTERM, request_stop);
    }
    ~SignalScope() {
        std::signal(SIGINT, old_int_);
        std::signal(SIGTERM, old_term_);
    }

private:
    void (*old_int_)(int);
    void (*old_term_)(int);
};

// ---- metrics.jsonl: one line per step, kept consistent with the checkpoint on resume ----
// Lines carry 1-based step numbers: line "step": s is logged after s steps. On resume from a
// checkpoint taken after `completed` steps, later lines are dropped (they will be logged again,
// identically), so an interrupted-then-resumed log equals an uninterrupted one.
std::string metrics_lines_upto(const std::string& path, long completed) {
    if (!file_exists(path)) return "";
    std::istringstream in(read_file(path));
    std::string line, kept;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const json::Value v = json::parse(line);
        if (static_cast<long>(v["step"].as_number()) <= completed) kept += line + "\n";
    }
    return kept;
}

// The name of the first parameter whose gradient holds a NaN or infinity, or "".
std::string first_nonfinite_gradient(const ParameterList& params) {
    for (const Parameter& p : params) {
        const float* g = p.value.grad();
        for (size_t i = 0; i < p.value.numel(); ++i)
            if (!std::isfinite(g[i])) return p.name;
    }
    return "";
}

std::string format_duration(double s) {
    char buf[32];
    if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
    else std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
    return buf;
}

void save_state(const std::string& path, const Model& model, const AdamW& opt, const BatchSampler& sampler,
                const TrainOptions& o, long step) {
    TrainingProgress progress;
    progress.step = step;
    progress.seed = o.seed;
    progress.total_steps = o.steps;
    progress.optimizer = &opt;
    progress.sampler = &const_cast<BatchSampler&>(sampler).rng();
    save_checkpoint(path, make_checkpoint(model, progress));
}

std::string summary_json(const TrainOptions& o, const Model& model, double val_loss, double train_loss,
                         double tokens_per_sec, double wall_s) {
    const ModelConfig& c = model.config();
    json::Writer w;
    w.add("ffn", ffn_name(c.ffn)).add("preset", c.preset).add("steps", o.steps)
        .add("seed", static_cast<long long>(o.seed));
    w.add("params", static_cast<long long>(model.parameter_count())).add("d_ff", c.d_ff())
        .add("matrices", ffn_matrices(c.ffn));
    w.add("d_model", c.d_model).add("n_head", c.n_head).add("n_layer", c.n_layer).add("ctx", c.ctx);
    w.add("batch", o.batch).add("lr", static_cast<double>(o.schedule.peak_lr)).add("threads", omp_get_max_threads());
    w.add("val_loss", val_loss).add("bits_per_byte", val_loss / std::log(2.0)).add("perplexity", std::exp(val_loss));
    w.add("final_train_loss", train_loss).add("tokens_per_sec", tokens_per_sec).add("wall_s", wall_s);
    w.add("data", o.data_path);
    return w.str() + "\n";
}

void validate(const TrainOptions& o) {
    if (o.steps < 1) throw std::invalid_argument("--steps must be >= 1, got " + std::to_string(o.steps));
    if (o.batch < 1) throw std::invalid_argument("--batch must be >= 1, got " + std::to_string(o.batch));
    if (!(o.schedule.peak_lr > 0.0f) || !std::isfinite(o.schedule.peak_lr))
        throw std::invalid_argument("--lr must be a positive finite number");
    if (o.out_dir.empty()) throw std::invalid_argument("--out is required");
    o.model.validate();
}

}  // namespace

StepResult train_step(Model& model, AdamW& optimizer, const Batch& batch, float lr, double clip, Profiler* profiler) {
    ParameterList& params = model.parameters();
    StepResult result;
    zero_gradients(params);
    ProfileScope profiling(profiler);  // from the forward to AdamW
    Tensor loss = model.loss(batch.tokens, batch.targets, batch.B, batch.T);
    result.loss = loss.item();
    if (!std::isfinite(result.loss)) {
        result.diverged = "the loss is " + std::to_string(result.loss);
        return result;
    }
    loss.backward();
    result.grad_norm = clip_grad_norm(params, clip);  // not finite if a gradient is not
    if (!std::isfinite(result.grad_norm)) {           // then say which, before AdamW spreads it
        result.diverged = "the gradient of " + first_nonfinite_gradient(params) + " is not finite";
        return result;
    }
    optimizer.step(params, lr);
    return result;
}

TrainResult train(const TrainOptions& o, std::ostream& log) {
    validate(o);
    if (o.threads > 0) omp_set_num_threads(o.threads);
    const auto t_start = Clock::now();

    const Corpus corpus = load_corpus(o.data_path, o.model.ctx);
    make_directories(o.out_dir);
    const std::string ckpt_path = o.out_dir + "/checkpoint.bin";
    const std::string metrics_path = o.out_dir + "/metrics.jsonl";

    Model model(o.model);
    model.init(init_seed(o.seed));
    ParameterList& params = model.parameters();
    AdamW optimizer(params);
    BatchSampler sampler(corpus.train, o.batch, o.model.ctx, sampler_seed(o.seed));
    long start = 0;
    if (!o.resume_dir.empty()) {
        const std::string from = o.resume_dir + "/checkpoint.bin";
        start = restore_training(load_checkpoint(from), from, model, optimizer, sampler.rng());
        if (start > o.steps)
            throw std::invalid_argument("checkpoint " + from + " is at step " + std::to_string(start) +
                                        ", past --steps " +
                                        std::to_string(o.steps));
        if (o.resume_dir != o.out_dir) {  // continue the log of the run we resume
            const std::string old_metrics = o.resume_dir + "/metrics.jsonl";
            write_file_atomic(metrics_path, file_exists(old_metrics) ? read_file(old_metrics) : "");
        }
    }
    // Rewrite the log with only the steps before `start`, then append from there.
    write_file_atomic(metrics_path, metrics_lines_upto(metrics_path, start));
    std::ofstream metrics(metrics_path, std::ios::app);
    if (!metrics) throw std::runtime_error("cannot write " + metrics_path);

    const std::vector<Batch> val_batches = validation_batches(corpus.val, o.model.ctx, o.batch);
    const long end = o.stop_after > 0 ? std::min(o.steps, start + o.stop_after) : o.steps;
    const double tokens_per_step = static_cast<double>(o.batch) * o.model.ctx;

    log << "glulab train: " << ffn_name(o.model.ffn) << " on preset " << o.model.preset << " (d " << o.model.d_model
        << ", H " << o.model.n_head << ", N " << o.model.n_layer << ", T " << o.model.ctx << ", d_ff "
        << o.model.d_ff() << "), " << model.parameter_count() << " parameters\n"
        << "  data " << o.data_path << ": " << corpus.train.size() << " train / " << corpus.val.size()
        << " validation bytes; steps " << start << " -> " << end << " of " << o.steps << ", batch " << o.batch
        << ", seed " << o.seed << ", threads " << omp_get_max_threads() << "\n";

    SignalScope signals;
    Profiler profiler;  // --profile: every op of the training steps, not of evaluation
    BufferPool buffers;               // activations and gradients, reused from step to step
    BufferPoolScope reuse(buffers);
    TrainResult result;
    double train_seconds = 0.0, last_loss = 0.0;
    auto window_start = Clock::now();
    long window_steps = 0;
    long step = start;
    Batch batch;  // refilled every step
    for (; step < end; ++step) {
        if (g_stop_requested) break;
        const auto t0 = Clock::now();
        sampler.next(batch);
        const float lr = learning_rate(o.schedule, step, o.steps);
        const StepResult done = train_step(model, optimizer, batch, lr, o.clip, o.profile ? &profiler : nullptr);
        if (!done.diverged.empty())
            throw std::runtime_error("training diverged at step " + std::to_string(step) + ": " + done.diverged +
                                     "; the last good checkpoint is " + ckpt_path);
        last_loss = done.loss;
        const double grad_norm = done.grad_norm;
        const double dt = seconds_since(t0);
        train_seconds += dt;
        ++window_steps;

        json::Writer line;
        line.add("step", step + 1).add("loss", last_loss).add("lr", static_cast<double>(lr));
        line.add("grad_norm", grad_norm).add("tokens_per_sec", tokens_per_step / dt);
        const bool last = step + 1 == o.steps;
        const bool eval_now = last || (o.eval_every > 0 && (step + 1) % o.eval_every == 0);
        if (eval_now) {
            const double val = evaluate(model, val_batches);
            line.add("val_loss", val);
            result.val_loss = val;
            log << "step " << step + 1 << "/" << o.steps << " | val loss " << val << " (" << val / std::log(2.0)
                << " bits/byte)\n";
            save_state(ckpt_path, model, optimizer, sampler, o, step + 1);
        }
        metrics << line.str() << "\n" << std::flush;

        if ((step + 1) % o.log_every == 0 || step + 1 == end) {
            const double window = seconds_since(window_start);
            const double tps = tokens_per_step * window_steps / window;
            char buf[160];
            std::snprintf(buf, sizeof buf, "step %ld/%ld | loss %.4f | lr %.2e | %.0f tok/s | eta %s\n", step + 1,
                          o.steps, last_loss, lr, tps,
                          format_duration((end - step - 1) * window / window_steps).c_str());
            log << buf << std::flush;
            window_start = Clock::now();
            window_steps = 0;
        }
    }

    if (o.profile) print_profile(log, profiler, step - start);
    if (step == o.steps && start == o.steps) result.val_loss = evaluate(model, val_batches);  // resumed a finished run
    result.steps_done = step;
    result.wall_s = seconds_since(t_start);
    result.tokens_per_sec = step > start ? tokens_per_step * (step - start) / train_seconds : 0.0;
    result.finished = step == o.steps;
    result.interrupted = g_stop_requested && !result.finished;
    if (!result.finished) {
        save_state(ckpt_path, model, optimizer, sampler, o, step);
        log << (result.interrupted ? "interrupted" : "stopped") << " at step " << step << " of " << o.steps
            << "; checkpoint saved to " << ckpt_path << ". Resume with the same command plus --resume\n";
        return result;
    }
    write_file_atomic(o.out_dir + "/summary.json",
                      summary_json(o, model, result.val_loss, last_loss, result.tokens_per_sec, result.wall_s));
    log << "done: val loss " << result.val_loss << " nats/byte, " << result.val_loss / std::log(2.0)
        << " bits/byte, perplexity " << std::exp(result.val_loss) << "; " << static_cast<long>(result.tokens_per_sec)
        << " tok/s, " << format_duration(result.wall_s) << "; wrote " << o.out_dir << "/summary.json\n";
    return result;
}

}  // namespace glulab
