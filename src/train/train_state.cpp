// train_state.cpp — model, optimiser and sampler to and from checkpoint contents.
//
// Names: parameters keep their registry names; AdamW moments are "adam.m.<name>" and
// "adam.v.<name>"; generator words are counters "rng.sampler.0" .. "rng.sampler.3".
#include "glulab/train_state.h"

#include <algorithm>

namespace glulab {

namespace {
std::string rng_key(int i) { return "rng.sampler." + std::to_string(i); }

void copy_into(const NamedArray& a, float* dst) { std::copy(a.values.begin(), a.values.end(), dst); }

std::vector<std::pair<std::string, std::string>> model_config_entries(const ModelConfig& c) {
    return {{"ffn", ffn_name(c.ffn)},
            {"preset", c.preset},
            {"d_model", std::to_string(c.d_model)},
            {"n_head", std::to_string(c.n_head)},
            {"n_layer", std::to_string(c.n_layer)},
            {"ctx", std::to_string(c.ctx)}};
}

int config_int(const CheckpointContents& c, const std::string& key, const std::string& path) {
    const std::string& text = c.config_value(key);
    try {
        size_t used = 0;
        const int value = std::stoi(text, &used);
        if (used == text.size() && value >= 1) return value;
    } catch (const std::exception&) {
    }
    throw CheckpointError("checkpoint " + path + ": config '" + key + "' is not a positive integer: '" + text + "'");
}
}  // namespace

CheckpointContents make_checkpoint(const Model& model, const TrainingProgress& progress) {
    CheckpointContents c;
    c.config = model_config_entries(model.config());
    c.counters = {{"step", static_cast<uint64_t>(progress.step)},
                  {"seed", progress.seed},
                  {"total_steps", static_cast<uint64_t>(progress.total_steps)}};
    const ParameterList& params = model.parameters();
    for (const Parameter& p : params) c.arrays.push_back({p.name, p.value.shape(), p.value.to_vector()});
    if (progress.optimizer) {
        const AdamW& opt = *progress.optimizer;
        c.counters.push_back({"adam.t", static_cast<uint64_t>(opt.steps_taken())});
        for (size_t i = 0; i < params.size(); ++i) {
            c.arrays.push_back({"adam.m." + params[i].name, params[i].value.shape(), opt.m(i)});
            c.arrays.push_back({"adam.v." + params[i].name, params[i].value.shape(), opt.v(i)});
        }
    }
    if (progress.sampler) {
        const auto state = progress.sampler->state();
        for (int i = 0; i < 4; ++i) c.counters.push_back({rng_key(i), state[i]});
    }
    return c;
}

std::unique_ptr<Model> model_from_checkpoint(const CheckpointContents& c, const std::string& path) {
    ModelConfig config;
    try {
        config.ffn = parse_ffn(c.config_value("ffn"));
    } catch (const std::invalid_argument& e) {
        throw CheckpointError("checkpoint " + path + ": " + e.what());
    }
    config.preset = c.config_value("preset");
    config.d_model = config_int(c, "d_model", path);
    config.n_head = config_int(c, "n_head", path);
    config.n_layer = config_int(c, "n_layer", path);
    config.ctx = config_int(c, "ctx", path);
    std::unique_ptr<Model> model;
    try {
        model = std::make_unique<Model>(config);
    } catch (const std::invalid_argument& e) {
        throw CheckpointError("checkpoint " + path + ": " + e.what());
    }
    for (Parameter& p : model->parameters()) copy_into(c.array(p.name, p.value.shape()), p.value.data());
    return model;
}

long restore_training(const CheckpointContents& c, const std::string& path, Model& model, AdamW& optimizer,
                      Rng& sampler) {
    for (const auto& [key, value] : model_config_entries(model.config()))
        if (c.config_value(key) != value)
            throw CheckpointError("checkpoint " + path + ": it was trained with " + key + " " + c.config_value(key) +
                                  ", this run asks for " + value);
    ParameterList& params = model.parameters();
    for (size_t i = 0; i < params.size(); ++i) {
        copy_into(c.array(params[i].name, params[i].value.shape()), params[i].value.data());
        copy_into(c.array("adam.m." + params[i].name, params[i].value.shape()), optimizer.m(i).data());
        copy_into(c.array("adam.v." + params[i].name, params[i].value.shape()), optimizer.v(i).data());
    }
    optimizer.set_steps_taken(static_cast<long>(c.counter("adam.t")));
    std::array<uint64_t, 4> state;
    for (int i = 0; i < 4; ++i) state[i] = c.counter(rng_key(i));
    sampler.set_state(state);
    return static_cast<long>(c.counter("step"));
}

}  // namespace glulab
