"""Training and evaluation data for the learned skeleton model: the real development set, generated
sequences, augmentation for what real cameras and pose models do, the network and its export."""
