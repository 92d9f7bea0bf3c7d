"""Dense half of the index: the sentence embedder (``embedder``, built by ``bert_onnx``), the
resumable job that embeds papers into the store (``vectors``) and the usearch ANN index
(``ann``)."""
