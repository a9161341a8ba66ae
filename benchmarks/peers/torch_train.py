"""The PyTorch script a user writes for the same training as `twonet train`: read the CSV,
standardise, nn.Sequential(Linear, ReLU, Linear), CrossEntropyLoss, optim.SGD, a shuffling
DataLoader-free loop (tensors indexed by a fresh permutation each epoch), then save the weights.
Usage: torch_train.py DATA.csv HIDDEN EPOCHS BATCH LR OUT.pt"""

import sys

import numpy as np
import torch

path, hidden, epochs, batch, lr, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
    float(sys.argv[5]), sys.argv[6]
table = np.loadtxt(path, delimiter=",", skiprows=1)
x = (table[:, :-1] - table[:, :-1].mean(axis=0)) / np.where(table[:, :-1].std(axis=0) > 0, table[:, :-1].std(axis=0), 1)
X, Y = torch.tensor(x, dtype=torch.float64), torch.tensor(table[:, -1], dtype=torch.long)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(),
                            torch.nn.Linear(hidden, int(Y.max()) + 1)).double()
opt = torch.optim.SGD(model.parameters(), lr=lr)
loss_fn = torch.nn.CrossEntropyLoss()
for _ in range(epochs):
    order = torch.randperm(len(X))
    for s in range(0, len(X), batch):
        idx = order[s:s + batch]
        opt.zero_grad(set_to_none=True)
        loss_fn(model(X[idx]), Y[idx]).backward()
        opt.step()
torch.save(model.state_dict(), out)
with torch.no_grad():
    print(f"accuracy (training rows) {(model(X).argmax(1) == Y).double().mean().item():.4f}")
