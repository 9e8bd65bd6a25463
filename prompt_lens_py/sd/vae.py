"""The part of diffusers' AutoencoderKL that Optimum exports as vae_decoder: decode(z) = decoder(post_quant_conv(z))."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from prompt_lens_py.sd.unet_blocks import Attention, ResnetBlock2D, Upsample2D


@dataclass
class VaeConfig:
    """Defaults: the SD 1.x test fixture's sizes."""

    latent_channels: int = 4
    out_channels: int = 3
    block_out_channels: tuple = (16, 16, 32, 32)
    layers_per_block: int = 2
    norm_num_groups: int = 8
    scaling_factor: float = 0.18215
    sample_size: int = 512  # config only (SD 2.1: 768)


class UpDecoderBlock2D(nn.Module):
    def __init__(self, num_layers, in_channels, out_channels, add_upsample, groups):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, None, groups, 1e-6) for i in range(num_layers)]
        )
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None

    def forward(self, hidden_states):
        for resnet in self.resnets:
            hidden_states = resnet(hidden_states, None)
        if self.upsamplers is not None:
            for u in self.upsamplers:
                hidden_states = u(hidden_states)
        return hidden_states


class UNetMidBlock2D(nn.Module):
    def __init__(self, in_channels, groups):
        super().__init__()
        self.attentions = nn.ModuleList(
            [Attention(in_channels, heads=1, dim_head=in_channels, bias=True, upcast_softmax=True, norm_num_groups=groups,
                       eps=1e-6, residual_connection=True)]
        )
        self.resnets = nn.ModuleList([ResnetBlock2D(in_channels, in_channels, None, groups, 1e-6) for _ in range(2)])

    def forward(self, hidden_states):
        hidden_states = self.resnets[0](hidden_states, None)
        for attn, resnet in zip(self.attentions, self.resnets[1:]):
            hidden_states = attn(hidden_states)
            hidden_states = resnet(hidden_states, None)
        return hidden_states


class Decoder(nn.Module):
    def __init__(self, cfg: VaeConfig):
        super().__init__()
        boc = list(cfg.block_out_channels)
        self.conv_in = nn.Conv2d(cfg.latent_channels, boc[-1], kernel_size=3, stride=1, padding=1)
        self.mid_block = UNetMidBlock2D(boc[-1], cfg.norm_num_groups)
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(boc))
        output_channel = rev[0]
        for i in range(len(boc)):
            prev_output_channel = output_channel
            output_channel = rev[i]
            self.up_blocks.append(UpDecoderBlock2D(cfg.layers_per_block + 1, prev_output_channel, output_channel,
                                                   i != len(boc) - 1, cfg.norm_num_groups))
        self.conv_norm_out = nn.GroupNorm(cfg.norm_num_groups, boc[0], eps=1e-6)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(boc[0], cfg.out_channels, 3, padding=1)

    def forward(self, z):
        sample = self.conv_in(z)
        sample = self.mid_block(sample)
        for up_block in self.up_blocks:
            sample = up_block(sample)
        sample = self.conv_act(self.conv_norm_out(sample))
        return self.conv_out(sample)


class AutoencoderKLDecoder(nn.Module):
    def __init__(self, cfg: VaeConfig):
        super().__init__()
        self.config = cfg
        self.post_quant_conv = nn.Conv2d(cfg.latent_channels, cfg.latent_channels, 1)
        self.decoder = Decoder(cfg)

    def forward(self, latent_sample):
        return self.decoder(self.post_quant_conv(latent_sample))
