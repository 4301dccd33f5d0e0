from minigrad.optim.optimizer import Optimizer
