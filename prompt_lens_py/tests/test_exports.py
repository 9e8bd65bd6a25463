"""The modules still make the committed models: an export of each embedded model from its committed checkpoint is
byte-identical to the shipped folder, and the SD fixtures' seeded modules hold exactly their ONNX files' weights."""
import filecmp
import os
import tempfile
import unittest

from prompt_lens_py.fixtures.sd_gradients import FIXTURES, check_weights, rebuild_unet
from prompt_lens_py.neglect_shapes.common import words as neglect_words
from prompt_lens_py.paths import NEGLECT_SHAPES, TINY_SHAPES, weights_file
from prompt_lens_py.sd import count_params
from prompt_lens_py.tiny_shapes import export
from prompt_lens_py.tiny_shapes.model import configs_from_dict, load_weights
from prompt_lens_py.tiny_shapes.tokenizer import WORDS

FOLDER = ["model_index.json", "scheduler/scheduler_config.json", "text_encoder/model.onnx", "text_encoder/config.json",
          "unet/model.onnx", "unet/config.json", "tokenizer/vocab.json", "tokenizer/merges.txt",
          "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json"]


class ExportTest(unittest.TestCase):
    def check_export(self, model_dir: str, words: list[str], text_params: int, unet_params: int):
        te, un, ck = load_weights(weights_file(model_dir))
        self.assertEqual((count_params(te), count_params(un)), (text_params, unet_params))  # the model cards' counts
        with tempfile.TemporaryDirectory() as tmp:
            export.export(te, un, configs_from_dict(ck["config"])[1], tmp, {"trained_steps": int(ck["step"]), "weights": "ema"}, words)
            _, mismatch, errors = filecmp.cmpfiles(tmp, model_dir, FOLDER, shallow=False)
        self.assertEqual((mismatch, errors), ([], []), f"an export of {weights_file(model_dir)} differs from the committed files")

    def test_tiny_shapes(self):
        self.check_export(TINY_SHAPES, WORDS, 474_624, 996_524)

    def test_neglect_shapes(self):
        self.check_export(NEGLECT_SHAPES, neglect_words(), 478_976, 996_524)

    def test_sd_fixtures_weights(self):
        for spec in FIXTURES.values():
            un, _ = rebuild_unet(spec["sd2"], spec["dir"])
            check_weights(un, os.path.join(spec["dir"], "unet", "model.onnx"))  # raises when a parameter is not there


if __name__ == "__main__":
    unittest.main()
