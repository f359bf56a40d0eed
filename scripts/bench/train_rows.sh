# The training rows of the CPU benchmarks (train_vs_torch.sh, portable.sh),
# sourced by both so they time the same runs. Fashion-MNIST has 468 batches
# of 128 an epoch: the runs stay in the first.
#
# train_row ROW (mlp, cnn, gpt or lstm) sets row_config, row_steps, row_log_every
# and row_sets (the row's --set arguments, on top of the caller's own).
train_row() {
  local mlp='[{type: Flatten}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 10}]'
  case $1 in
    mlp) row_config=configs/fashion_mlp.yaml row_steps=400 row_log_every=50
         row_sets=(--set "model=$mlp" --set 'optim={name: sgd, lr: 0.01, momentum: 0.9}') ;;
    cnn) row_config=configs/fashion_cnn.yaml row_steps=200 row_log_every=20
         row_sets=(--set 'data.augment={crop_padding: 0, hflip: false}') ;;
    gpt) row_config=configs/kjv_gpt.yaml row_steps=60 row_log_every=10
         row_sets=(--set model.dropout=0 --set train.grad_clip=1.0) ;;
    lstm) row_config=configs/kjv_lstm.yaml row_steps=40 row_log_every=10
          row_sets=(--set 'model[1].dropout=0' --set train.grad_clip=1.0) ;;
    *) echo "train_row: unknown row '$1' (mlp, cnn, gpt, lstm)" >&2; return 2 ;;
  esac
}
