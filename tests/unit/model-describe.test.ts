// What picked model files are, as the worker tells the page (the page never unzips them): the name
// and kind from metadata.json, an own Keras model (a model.json without it), or an error that names the file.
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { FromWorker } from '../../src/protocol.js';
import { answerDescribe, describePickedModel } from '../../workers/model-loader.js';
import { SHARED_MODELS } from '../helpers/shared.js';

const DAY_NIGHT = path.join(SHARED_MODELS, 'teachable-machine', 'day-night');
const THREE = ['model.json', 'weights.bin', 'metadata.json'];
const file = (name: string, bytes: Uint8Array) => new File([bytes as Uint8Array<ArrayBuffer>], name);
const dayNight = () => THREE.map((f) => file(f, fs.readFileSync(path.join(DAY_NIGHT, f))));
const metadata = (extra: object) =>
  new TextEncoder().encode(
    JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(DAY_NIGHT, 'metadata.json'), 'utf8')), ...extra }),
  );

describe('describing picked model files', () => {
  it('reads the name and kind of the three files, and of their zip', async () => {
    const three = await describePickedModel(dayNight());
    expect(three.origin).toBe('teachable-machine');
    expect(three.name.length).toBeGreaterThan(0);
    const zip = zipSync(
      Object.fromEntries(THREE.map((f) => [`export/${f}`, fs.readFileSync(path.join(DAY_NIGHT, f))])),
    );
    expect(await describePickedModel([file('day night.zip', zip)])).toEqual(three);
  });

  it("keeps the metadata's model name, trimmed, and names an unnamed one", async () => {
    const named = [file('metadata.json', metadata({ modelName: '  Lamps  ' }))];
    expect(await describePickedModel(named)).toEqual({ name: 'Lamps', origin: 'teachable-machine' });
    const blank = [file('metadata.json', metadata({ modelName: ' ' }))];
    expect((await describePickedModel(blank)).name).toBe('Teachable Machine model');
  });

  it('a broken zip: the message names the file and says it is not a readable zip', async () => {
    const broken = file('lesson 3.zip', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]));
    await expect(describePickedModel([broken])).rejects.toThrow(/^lesson 3\.zip is not a readable zip archive/);
    const posted: FromWorker[] = [];
    await answerDescribe({ type: 'describe-model', requestId: 7, files: [broken] }, (m) => posted.push(m));
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ type: 'model-described', requestId: 7, ok: false, code: 'model-corrupt' });
    expect((posted[0] as { message: string }).message).toMatch(/lesson 3\.zip/);
  });

  it("a model.json without Teachable Machine metadata is the user's own Keras model, named after its zip", async () => {
    const json = new TextEncoder().encode('{}');
    const zip = zipSync({ 'model.json': json });
    expect(await describePickedModel([file('my net.zip', zip)])).toEqual({ name: 'my net', origin: 'keras' });
    // Loose files carry no name; a metadata.json that only lists labels is not Teachable Machine's.
    const labels = new TextEncoder().encode(JSON.stringify({ labels: ['cat', 'dog'] }));
    const loose = [
      file('model.json', json),
      file('metadata.json', labels),
      file('group1-shard1of1', new Uint8Array(4)),
    ];
    expect(await describePickedModel(loose)).toEqual({ name: 'own model', origin: 'keras' });
  });

  it('files with neither model.json nor Teachable Machine metadata say so, naming the file', async () => {
    const zip = zipSync({ 'weights.bin': new Uint8Array(8) });
    await expect(describePickedModel([file('half.zip', zip)])).rejects.toThrow(
      /^half\.zip has no model\.json and no metadata\.json/,
    );
  });

  it('answers a good request with its name and kind', async () => {
    const posted: FromWorker[] = [];
    await answerDescribe({ type: 'describe-model', requestId: 3, files: dayNight() }, (m) => posted.push(m));
    expect(posted).toEqual([
      { type: 'model-described', requestId: 3, ok: true, ...(await describePickedModel(dayNight())) },
    ]);
  });
});
