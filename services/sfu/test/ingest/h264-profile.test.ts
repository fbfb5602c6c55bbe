import type { types } from 'mediasoup';
import { h264Profile, parseHexdump, profileLevelIdFromExtradata, profileLevelIdFromName, routeH264 } from '../../src/ingest/h264-profile.js';
import { mediaCodecs } from '../../src/rooms/media-codecs.js';

describe('H.264 profile-level-id', () => {
  it('classifies profiles as RFC 6184 / libwebrtc do', () => {
    expect(h264Profile('42e01f')).toBe('constrained-baseline');
    expect(h264Profile('42c016')).toBe('constrained-baseline'); // x264 baseline: constraint_set0+1
    expect(h264Profile('4d801f')).toBe('constrained-baseline'); // main with constraint_set0
    expect(h264Profile('42001f')).toBe('baseline');
    expect(h264Profile('4d400c')).toBe('main');
    expect(h264Profile('640032')).toBe('high');
    expect(h264Profile('640c32')).toBe('constrained-high');
    expect(h264Profile('7a0032')).toBe('other');
    expect(h264Profile('zz')).toBe('other');
  });

  it('reads the SPS from Annex B and from avcC extradata', () => {
    expect(profileLevelIdFromExtradata(Uint8Array.from([0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x16, 0xda]))).toBe('42c016');
    expect(profileLevelIdFromExtradata(Uint8Array.from([0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x27, 0x64, 0, 0x28, 0xac]))).toBe('640028'); // PPS first; nal_ref_idc 1
    expect(profileLevelIdFromExtradata(Uint8Array.from([1, 0x4d, 0x40, 0x0c, 0xff]))).toBe('4d400c');
    expect(profileLevelIdFromExtradata(Uint8Array.from([0, 0, 1, 0x68, 0xce, 0x3c, 0x80]))).toBeUndefined();
  });

  it('parses ffprobe\'s hexdump, ASCII column and short last line included', () => {
    const dump = '\n00000000: 0000 0001 6742 c016 da02 80f6 c05a 8303  ....gB.......Z..\n00000020: 0000 0168 ce3c 80                        ...h.<.\n';
    expect([...parseHexdump(dump)]).toEqual([0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x16, 0xda, 0x02, 0x80, 0xf6, 0xc0, 0x5a, 0x83, 0x03, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
  });

  it('falls back on the profile name and level', () => {
    expect(profileLevelIdFromName('Constrained Baseline', 31)).toBe('42e01f');
    expect(profileLevelIdFromName('High', 40)).toBe('640028');
    expect(profileLevelIdFromName('High 4:4:4 Predictive', 40)).toBeUndefined();
    expect(profileLevelIdFromName('Main', undefined)).toBeUndefined();
  });

  it('routes a source whose profile the router has, in the router\'s packetization mode', () => {
    const router = mediaCodecs(['VP8', 'H264']) as types.RtpCodecCapability[];
    expect(routeH264(router, '42C028')).toEqual({ packetizationMode: 1, profileLevelId: '42c028' });
    expect(routeH264(router, '640028')).toBeUndefined();
    expect(routeH264(mediaCodecs(['VP8']) as types.RtpCodecCapability[], '42e01f')).toBeUndefined();
    const mode0 = [{ kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'profile-level-id': '42e01f' } }] as types.RtpCodecCapability[];
    expect(routeH264(mode0, '42e01f')).toEqual({ packetizationMode: 0, profileLevelId: '42e01f' });
  });
});
