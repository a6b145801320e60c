"""Fidelity of real models under a quantization scheme, computed through the hwsim codes:
all-MiniLM-L6-v2 sentence embeddings (minilm.py), a small CNN on scikit-learn's digits
(digits_cnn.py), both built on the quantized GEMM layers of quantized.py, and the result cache
keyed by (model, scheme) (cache.py)."""
