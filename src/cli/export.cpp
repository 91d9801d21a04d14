// export.cpp — `glulab export`: a checkpoint's weights as a safetensors file, named and shaped
// as PyTorch would (nn.Linear weights are [out, in]), so NumPy or PyTorch can load them
// without this project.
#include <cstdio>

#include "glulab/checkpoint.h"
#include "glulab/cli.h"
#include "glulab/options.h"
#include "glulab/safetensors.h"
#include "glulab/train_state.h"

namespace glulab::cli {

namespace {
// We store a Linear weight as (in, out) for x @ W; PyTorch stores W^T, (out, in).
NamedArray to_pytorch_layout(const Parameter& p) {
    NamedArray a{p.name, p.value.shape(), p.value.to_vector()};
    if (!p.is_matrix()) return a;
    const int rows = a.shape[0], cols = a.shape[1];
    a.shape = {cols, rows};
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            a.values[static_cast<size_t>(c) * rows + r] = p.value.data()[static_cast<size_t>(r) * cols + c];
    return a;
}
}  // namespace

int cmd_export(const Args& args) {
    static const CommandSpec spec{
        "export",
        "Write a checkpoint's weights as safetensors (F32, PyTorch names and [out, in] shapes).",
        "glulab export --ckpt runs/demo/checkpoint.bin --out demo.safetensors",
        {{"ckpt", "FILE", "checkpoint written by glulab train", ""},
         {"out", "FILE", "the .safetensors file to write", ""}},
        ""};
    return run_command(spec, args, [](const Options& opt) {
        const std::string path = opt.required("ckpt");
        const std::string out = opt.required("out");
        const auto model = model_from_checkpoint(load_checkpoint(path), path);
        const ModelConfig& c = model->config();
        SafetensorsFile file;
        for (const Parameter& p : model->parameters()) file.tensors.push_back(to_pytorch_layout(p));
        file.metadata = {{"ffn", ffn_name(c.ffn)},
                         {"d_model", std::to_string(c.d_model)},
                         {"n_head", std::to_string(c.n_head)},
                         {"n_layer", std::to_string(c.n_layer)},
                         {"ctx", std::to_string(c.ctx)},
                         {"d_ff", std::to_string(c.d_ff())}};
        write_safetensors(out, file);
        std::printf("wrote %s: %zu tensors, %zu parameters\n", out.c_str(), file.tensors.size(),
                    model->parameter_count());
        return 0;
    });
}

}  // namespace glulab::cli
