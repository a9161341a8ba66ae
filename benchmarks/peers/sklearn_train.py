"""The scikit-learn script a user writes for the same training as `twonet train`: read the CSV,
standardise on the training rows, MLPClassifier(solver="sgd") with the same sizes, batch, rate,
epochs and no momentum, then save the weights. Usage: sklearn_train.py DATA.csv HIDDEN EPOCHS BATCH LR OUT.npz"""

import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

path, hidden, epochs, batch, lr, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
    float(sys.argv[5]), sys.argv[6]
table = np.loadtxt(path, delimiter=",", skiprows=1)
x, y = StandardScaler().fit_transform(table[:, :-1]), table[:, -1].astype(int)
model = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", solver="sgd", batch_size=batch,
                      learning_rate_init=lr, momentum=0.0, alpha=0.0, max_iter=epochs, shuffle=True, tol=0.0,
                      n_iter_no_change=10**9, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(x, y)
np.savez(out, W1=model.coefs_[0].T, b1=model.intercepts_[0], W2=model.coefs_[1].T, b2=model.intercepts_[1])
print(f"accuracy (training rows) {model.score(x, y):.4f}")
