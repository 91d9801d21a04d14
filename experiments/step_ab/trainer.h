// trainer.h — the interface of trainer.cpp, in plain C++ types. Included inside a namespace of
// the includer's choice (no include guard on purpose): step_ab.cpp declares it once per build.
struct Trainer;
std::shared_ptr<Trainer> make_trainer(const std::string& preset, const std::string& ffn);
int context(const Trainer& t);               // T, the preset's context
double timed_step(Trainer& t, int B);        // one training step on B random windows: seconds
