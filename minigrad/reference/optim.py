"""NumPy twins of kernels/optim.pyx: the same functions and arguments, less ``num_threads``.

Each function updates lists of numpy arrays in place, tensor by tensor, in torch's operation order
(see the kernel's docstring for the math). Scalars are cast to each tensor's dtype before use, as
the kernel casts them to ``floating``, so float32 runs in float32 as torch's CPU kernels do.
adadelta_step, adamax_step, nadam_step and radam_step make the kernel's IEEE operations in the
kernel's order (numpy fuses nothing), so the kernel gives their bits exactly.
"""
import math

import numpy as np

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adadelta_step",
           "adamax_step", "nadam_step", "radam_step"]


def _lerp_(start, end, weight):
    """start = torch.lerp(start, end, weight), in place."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (start.dtype.type(1) - weight)


def _increment(step):
    step += 1
    return float(step)


def sgd_step(params, grads, momentum_buffers, first_step, lr, weight_decay, momentum,
             dampening, nesterov, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        t = p.dtype.type
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + t(weight_decay) * p
        if momentum != 0:
            buf = momentum_buffers[i]
            if first_step[i]:
                buf[...] = g
            else:
                buf *= t(momentum)
                buf += t(1 - dampening) * g
            g = g + t(momentum) * buf if nesterov else buf
        p += t(-lr) * g


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, amsgrad,
              beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay):
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        t = p.dtype.type
        step = _increment(state_steps[i])
        g = -g if maximize else g
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= t(1 - lr * weight_decay)
            else:
                g = g + t(weight_decay) * p
        _lerp_(m, g, t(1 - beta1))
        v *= t(beta2)
        v += t(1 - beta2) * g * g
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        if amsgrad:
            np.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        denom = np.sqrt(v) / t(bias_correction2_sqrt) + t(eps)
        p += t(-step_size) * (m / denom)


def rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers, state_steps, lr,
                 alpha, eps, weight_decay, momentum, centered, maximize):
    for i, (p, g, square_avg) in enumerate(zip(params, grads, square_avgs)):
        t = p.dtype.type
        _increment(state_steps[i])
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + t(weight_decay) * p
        square_avg *= t(alpha)
        square_avg += t(1 - alpha) * g * g
        if centered:
            grad_avg = grad_avgs[i]
            _lerp_(grad_avg, g, t(1 - alpha))
            # the product exact, as torch's addcmul (and the kernel's fma): a*a would overflow
            # first near 1e26 in float32, 1e160 in float64 (long double holds both)
            wide = np.float64 if p.dtype == np.float32 else np.longdouble
            variance = square_avg.astype(wide) - grad_avg.astype(wide) * grad_avg.astype(wide)
            avg = np.sqrt(variance.astype(p.dtype)) + t(eps)
        else:
            avg = np.sqrt(square_avg) + t(eps)
        if momentum > 0:
            buf = momentum_buffers[i]
            buf *= t(momentum)
            buf += g / avg
            p += t(-lr) * buf
        else:
            p += t(-lr) * (g / avg)


def adagrad_step(params, grads, state_sums, state_steps, lr, weight_decay, lr_decay, eps,
                 maximize):
    for i, (p, g, state_sum) in enumerate(zip(params, grads, state_sums)):
        t = p.dtype.type
        step = _increment(state_steps[i])
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + t(weight_decay) * p
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum += g * g
        p += t(-clr) * (g / (np.sqrt(state_sum) + t(eps)))


def _weight_decay(p, g, weight_decay, lr, decoupled):
    """The gradient after L2 weight decay (g + wd p), or p shrunk in place (decoupled)."""
    if weight_decay != 0:
        t = p.dtype.type
        if decoupled:
            p *= t(1 - lr * weight_decay)
        else:
            g = g + t(weight_decay) * p
    return g


def adadelta_step(params, grads, square_avgs, acc_deltas, state_steps, lr, rho, eps,
                  weight_decay, maximize):
    for i, (p, g, square_avg, acc_delta) in enumerate(zip(params, grads, square_avgs,
                                                          acc_deltas)):
        t = p.dtype.type
        _increment(state_steps[i])
        g = -g if maximize else g
        g = _weight_decay(p, g, weight_decay, lr, False)
        square_avg *= t(rho)
        square_avg += t(1 - rho) * g * g
        delta = np.sqrt(acc_delta + t(eps)) / np.sqrt(square_avg + t(eps)) * g
        acc_delta *= t(rho)
        acc_delta += t(1 - rho) * delta * delta
        p += t(-lr) * delta


def adamax_step(params, grads, exp_avgs, exp_infs, state_steps, beta1, beta2, lr, weight_decay,
                eps, maximize):
    for i, (p, g, exp_avg, exp_inf) in enumerate(zip(params, grads, exp_avgs, exp_infs)):
        t = p.dtype.type
        step = _increment(state_steps[i])
        g = -g if maximize else g
        g = _weight_decay(p, g, weight_decay, lr, False)
        _lerp_(exp_avg, g, t(1 - beta1))
        exp_inf *= t(beta2)
        np.maximum(exp_inf, np.abs(g) + t(eps), out=exp_inf)
        clr = lr / (1 - beta1 ** step)
        p += t(-clr) * exp_avg / exp_inf


def nadam_step(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, beta1, beta2,
               lr, weight_decay, momentum_decay, eps, decoupled_weight_decay, maximize):
    for i, (p, g, exp_avg, exp_avg_sq) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        t = p.dtype.type
        step = _increment(state_steps[i])
        g = -g if maximize else g
        g = _weight_decay(p, g, weight_decay, lr, decoupled_weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        product = mu_products[i]
        product *= product.dtype.type(mu)     # in the product's precision, as torch
        product = float(product)
        _lerp_(exp_avg, g, t(1 - beta1))
        exp_avg_sq *= t(beta2)
        exp_avg_sq += t(1 - beta2) * g * g
        denom = np.sqrt(exp_avg_sq / t(1 - beta2 ** step)) + t(eps)
        p += t(-lr * (1.0 - mu) / (1.0 - product)) * g / denom
        p += t(-lr * mu_next / (1.0 - product * mu_next)) * exp_avg / denom


def radam_step(params, grads, exp_avgs, exp_avg_sqs, state_steps, beta1, beta2, lr,
               weight_decay, eps, decoupled_weight_decay, maximize):
    rho_inf = 2 / (1 - beta2) - 1
    for i, (p, g, exp_avg, exp_avg_sq) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        t = p.dtype.type
        step = _increment(state_steps[i])
        g = -g if maximize else g
        g = _weight_decay(p, g, weight_decay, lr, decoupled_weight_decay)
        _lerp_(exp_avg, g, t(1 - beta1))
        exp_avg_sq *= t(beta2)
        exp_avg_sq += t(1 - beta2) * g * g
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / t(1 - beta1 ** step)
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rectification = ((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = t(1) / (np.sqrt(exp_avg_sq) + t(eps)) * t(bias_correction2 ** 0.5)
            p -= corrected * t(lr) * adaptive * t(rectification)
        else:
            p -= corrected * t(lr)
