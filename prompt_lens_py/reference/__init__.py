"""The PyTorch references the engine is checked against: DDIM sampler, Separate-and-Enhance finetune and its gradients."""
