"""The tokenizer writer reproduces every committed tokenizer folder byte for byte, and tokenises as CLIP does."""
import filecmp
import os
import tempfile
import unittest

from prompt_lens_py.clip_tokenizer import EOT, ClipTokenizer, write_files
from prompt_lens_py.fixtures import sd_folder
from prompt_lens_py.neglect_shapes.common import words as neglect_words
from prompt_lens_py.paths import NEGLECT_SHAPES, TINY_SHAPES
from prompt_lens_py.tiny_shapes.tokenizer import WORDS, write_tokenizer

FILES = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]


class TokenizerTest(unittest.TestCase):
    def assertSameFiles(self, written: str, committed: str):
        _, mismatch, errors = filecmp.cmpfiles(written, committed, FILES, shallow=False)
        self.assertEqual((mismatch, errors), ([], []), f"{committed} differs from what the writer writes")

    def test_embedded_models(self):
        for model_dir, words in ((TINY_SHAPES, WORDS), (NEGLECT_SHAPES, neglect_words())):
            with tempfile.TemporaryDirectory() as tmp:
                write_tokenizer(tmp, words)
                self.assertSameFiles(tmp, os.path.join(model_dir, "tokenizer"))

    def test_sd_fixtures(self):
        for folder, pad in ((sd_folder.DEFAULT_OUT, EOT), (sd_folder.DEFAULT_OUT_SD2, "!")):
            with tempfile.TemporaryDirectory() as tmp:
                write_files(tmp, sd_folder.WORDS, 77, pad_token=pad, recent_transformers=True)
                self.assertSameFiles(tmp, os.path.join(folder, "tokenizer"))

    def test_ids(self):
        tok = ClipTokenizer(os.path.join(TINY_SHAPES, "tokenizer"))
        self.assertEqual(tok(""), [583] + [584] * 15)  # the model card's empty prompt
        self.assertEqual(tok.tokens("A red circle."), ["a</w>", "red</w>", "circle</w>", ".</w>"])
        sd2 = ClipTokenizer(os.path.join(sd_folder.DEFAULT_OUT_SD2, "tokenizer"))
        self.assertEqual(sd2("a dog")[3:6], [sd2.eot, 0, 0])  # SD 2.x pads with "!", id 0


if __name__ == "__main__":
    unittest.main()
