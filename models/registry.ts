/**
 * The models WhyCam knows. Weights are never committed: `npm run models` fetches them from their
 * public home (or copies them from a mirror folder with the same layout) into `models/<id>/`.
 *
 * Four are the Keras Applications MobileNet V1 ImageNet weights converted to TF.js LayersModels by
 * Google and hosted with the tfjs-models (upstream the TensorFlow-Slim checkpoints are Apache-2.0).
 * The zoo models beside them (GoogLeNet, SqueezeNet 1.1, DenseNet-121) come from public GitHub
 * repositories pinned to a commit; their provenance is in ../shared/models/SOURCES.md.
 */
import type { DefaultView, Method } from '../src/explain/methods/names.js';
import { inputRangeOf, type Normalization } from '../src/explain/network/normalization.js';
import { GOOGLENET_SHA256, SQUEEZENET_1_1_SHA256 } from './registry-checksums-caffe.js';
import { DENSENET121_SHA256 } from './registry-checksums-densenet121.js';

/** How a model's files are laid out, which decides how they are listed, verified and imported. */
export type ModelFormat = 'tfjs-layers' | 'caffe' | 'onnx';

export interface ModelEntry {
  /** Folder name under `models/` and the value of `--model`. */
  id: string;
  displayName: string;
  format: ModelFormat;
  /**
   * tfjs-layers: canonical URL of `model.json` (the weight shards sit beside it). caffe: the base
   * URL of the model folder, ending in `/`; its files are exactly the keys of `sha256`. onnx: the
   * URL of the `.onnx` file, kept under its own name (the one key of `sha256`).
   */
  url: string;
  /**
   * The folder name in a mirror when it is not the id (the mirror keeps its exports' own names).
   * A mirror is tried at `<mirror>/<id>/` first, then at `<mirror>/<mirrorFolder>/`.
   */
  mirrorFolder?: string;
  /**
   * sha256 of each file (paths relative to the model folder), where a byte-identical copy was
   * available to hash. tfjs-layers files not listed are verified structurally (present, and the
   * byte length `model.json` declares); a caffe model lists every file it has.
   */
  sha256: Readonly<Record<string, string>>;
  /** Total size of the model's files in bytes, for the menu and the progress bars. */
  bytes: number;
  /** Network input height and width. */
  inputSize: readonly [number, number];
  /** How the network wants its pixels (range, per-channel statistics, channel order). */
  normalize: Normalization;
  /**
   * The range 0..255 is mapped onto: always `inputRangeOf(normalize)`, derived here so that the
   * callers which scale pixels themselves (preprocess, perturbations, teaching) keep working.
   */
  inputRange: readonly [number, number];
  /** The layer whose output is the pre-softmax class scores. */
  logitLayer: string;
  /** The softmax layer that turns logits into probabilities (null where the model gives logits). */
  softmaxLayer: string | null;
  /**
   * Documentation of what the engine finds: the last feature map (what `auto` means) and the map
   * CAM weights with the classifier (null where no global-pool-then-linear head makes CAM exact).
   */
  featureLayer: string;
  camLayer: string | null;
  /**
   * The live app's default view, chosen by the rule in the README from `whycam eval` on the 300
   * boxed validation photos. The one place it is defined: `defaultView()` below serves every caller.
   */
  defaultView: { method: Method; layer: string };
  /**
   * The default view's figures behind that choice: pointing game and energy in the boxes on the
   * 300-photo dev set, and the sanity check's mean Spearman ρ with every block above its layer
   * re-initialised (below 0.3 passes). Shown in the help; the rule wants ≥ 95 % pointing.
   */
  viewFigures: { pointing: number; energy: number; spearman: number };
  /** `default` models are fetched by `npm run models` and on install; others on request. */
  fetch: 'default' | 'on-request';
  /** One line for pickers: what the model is good for. */
  note: string;
  licence: string;
}

/** An entry with `inputRange` derived from `normalize`, so that the two can never disagree. */
function withInputRange(e: Omit<ModelEntry, 'inputRange'>): ModelEntry {
  return { ...e, inputRange: inputRangeOf(e.normalize) };
}

const KERAS_MOBILENET = {
  format: 'tfjs-layers',
  inputSize: [224, 224],
  normalize: 'minus-one-to-one',
  logitLayer: 'conv_preds',
  softmaxLayer: 'act_softmax',
  featureLayer: 'conv_pw_13_relu',
  camLayer: 'conv_pw_13_relu',
  // Not measured for these widths (0.50, 1.0): the 0.75's choice; the measured models below say their own.
  defaultView: { method: 'hirescam', layer: 'conv_pw_11_relu' },
  viewFigures: { pointing: 0.933, energy: 0.681, spearman: 0.059 },
  licence: 'Apache-2.0 (Keras Applications MobileNet weights, from the TensorFlow-Slim checkpoints)',
} as const;

/**
 * Sizes of the MobileNets: the weights follow exactly from the architecture (checked against the
 * 0.75 and 0.25 files); `model.json` is about 49.4 kB at every width (the 0.75's is 49,403 bytes).
 */
const MOBILENET_JSON_BYTES = 49_403;

const HOST = 'https://storage.googleapis.com/tfjs-models/tfjs';
// The zoo models' public homes, pinned to the commits whose files the checksums are of.
const CAFFEJS = 'https://raw.githubusercontent.com/chaosmail/caffejs/424d98682b50dd88d0b8cca401c66855709bd013/models';
// The ONNX Model Zoo's int8 MobileNet V2, byte-identical in this repository at this commit (SOURCES.md).
const ONNX_MOBILENETV2 =
  'https://raw.githubusercontent.com/Lawrence-lugs/hwacc_design_garage/3d6147f8729cafb4c79faf9c2f1eab1bf76213a2/onnx_models/mobilenetv2-12-int8.onnx';
const TFJS_GRADCAM =
  'https://raw.githubusercontent.com/carlthome/tfjs-gradcam/65518224b2fa5b53edcab9cdfdac7fc06953b4a8/models';

export const MODELS: readonly ModelEntry[] = [
  withInputRange({
    ...KERAS_MOBILENET,
    id: 'mobilenet_v1_0.75_224',
    // By the README's rule (docs/hirescam-results.md): of the maps that pass the sanity check,
    // HiResCAM at conv_pw_11_relu has the most energy in the boxes (280/300 pointing, 0.681; the
    // centre prior 272/300, 0.677). LayerCAM points better (290/300) but fails the check.
    defaultView: { method: 'hirescam', layer: 'conv_pw_11_relu' },
    viewFigures: { pointing: 280 / 300, energy: 0.681, spearman: 0.059 },
    displayName: 'MobileNet V1 0.75 (224)',
    url: `${HOST}/mobilenet_v1_0.75_224/model.json`,
    fetch: 'default',
    note: 'default: 68.4% top-1 on ImageNet val, 10.4 MB',
    bytes: 10_407_904 + MOBILENET_JSON_BYTES,
    sha256: {
      'model.json': 'a74c25424bd9939b1c245a58da417e35d1ca16f0b009490a1c44b43d982600d9',
      'group1-shard1of1': '410b3cc24d17aeabb2b0da4ba3b70383bbd40d7876c7c3d0e5184e1624f97370',
      'group2-shard1of1': 'd81c61c33c32ddae0ff0a460efc326ebfdf5b44e7e4891feb12e9fadd09a56a3',
      'group3-shard1of1': '112908d83ad17ecaf849958cce3ca7bfed80157a51360ba879528b2435e2f082',
      'group4-shard1of1': '5e94d298bb9dbc3112e992466a03caac0b24f0438d3a9f1f6cd6bda9a54ae149',
      'group5-shard1of1': '9df642d8547369f3729945e24851a2e6b53151322d811a6ff056aa6cfade05ae',
      'group6-shard1of1': '1d4757b388337362ec777dfede8342c8a204d2fdcbdd05fedc2e8c043bc770d2',
      'group7-shard1of1': '2af6b4d2bd0445481274ee0c2c62f1c97c9b07358c1f242502d9399a33633462',
      'group8-shard1of1': 'fedb2a393c7e5a9cd877a09a03cb173a6b5265c3f1c64996fa6eeb73caf281a2',
      'group9-shard1of1': '8c0dd6230a3dfd282624bd3ca3e288cb18bd8094a02a93cadd06107d7b0fdc76',
      'group10-shard1of1': 'ffe87f44c0b246b0e3a2e8f7b4c8755df7e90083eab280046e1949f6d3094548',
      'group11-shard1of1': 'd5422fd33b5b3a761b4872e350236445d006f5b024a8b50f1e19aec5df998e75',
      'group12-shard1of1': '21bcbe424326f5d44476b4116695842dfec1dc1c83257db7c300bdbd14cbcbe0',
      'group13-shard1of1': 'cee9d1834e80e98e0f55cb40a654540f9e9b1fd18ab2f16afa1e8bd916addc75',
      'group14-shard1of1': '4851f5e477559b41db0e267878b86ccf2ea1cc7ed9f5d7599d661ba980718c65',
      'group15-shard1of1': '262efea5db1248f77ea109c628647afe8f1d2750812dd764de514bcb72fb5fbf',
      'group16-shard1of1': '2f4d993fb69caaabb060efcc347b54b0949e17a3d43cff315072e550775e993b',
      'group17-shard1of1': 'd1518210ac84e0a713d01bebfbff1aa93c4ec16b4f43f98f2f4a2134f605324e',
      'group18-shard1of1': 'c730ccf93ab504096fe2294c7bbbb66855a07f2480c0f72849cad9a90092729b',
      'group19-shard1of1': 'd39c30fc0cb24c28dcf0a869ca8d6528e596599e70f7899f453dc5de775e5de2',
      'group20-shard1of1': 'd94cd173f5b95be0a192333b6c5203123a35f8d5429b122eba46da5fd7d01e70',
      'group21-shard1of1': '982cbbfb5bc00408b67182a65140b8ca6793cb495ab94c6b83c71384435684e3',
      'group22-shard1of1': '64f8593a7e07081e8f0981393e5515a23153459f19685ebd69e8f4e64b6de258',
      'group23-shard1of1': '38be667fa3398643de8bae70b8693e2d895cfe099fd34e9c241bc572bb764ec8',
      'group24-shard1of1': '62c62d667246e8af09ed15b557add88ed9b0a9c7f058d8c9b8e20dc4183a3616',
      'group25-shard1of1': 'b4e3ea0b6fb1c3e160cc673ce9c81d592ff233e608b2fc1dc0792125b867bd68',
      'group26-shard1of1': '0059826ac853f592c50ca5d07edb8feb1bd84a855eba47333cb834095acb6b2b',
      'group27-shard1of1': '3de17d3971bf39138917a87a4efa335c9cc82a33170f552361345f583a18b0cf',
      'group28-shard1of1': '3aaa10b8e1932a9eebf04d9f85a65050e2ecc5efb295bdcd262c2e4c560ff70c',
      'group29-shard1of1': '29e5c43deddd5033397f359611b840d130493c2eebb841b627de231a9a3a3133',
      'group30-shard1of1': 'f95062a80935d493826eceb4e7d77655d10fe3be398653d7391beb282b16e105',
      'group31-shard1of1': 'e4dbda049f2f49709fd4198b673fb5806e1e03d852645acdf4f1b0857f3cb561',
      'group32-shard1of1': '2af21d7664ffcbba5af49116fe97e643ac1761a0dff53af05ee0755fac487af7',
      'group33-shard1of1': 'b082a0a4d7d18fcecbc0bd4d9bddfe52bd3b9d8bd375d0603201dfc8ce6d6c14',
      'group34-shard1of1': 'f2053a6599e047de9e91fdf83a34097494e03f1467522797aab6ccf843ed6cb9',
      'group35-shard1of1': 'fd2e5a79e02d66d381b115b5c4bb84495e4d6a9be613e33717edc8ed4c391a71',
      'group36-shard1of1': '24c244d8b8125eb206eacce88bf9b42748787b5a1f58899cd2e96e9094ba1a8d',
      'group37-shard1of1': 'fa347a3052379e031c4aa71a7cde35e2c87f1907a2715fd2d01f05a901b35855',
      'group38-shard1of1': 'f008795067a5c6d654c113c3c17c96db04b2a73f9246182c902eaccdd633b4e2',
      'group39-shard1of1': 'd45475bd4af1c142501fd3df402f4d14fab9129d549a6b2ac07dd5c6f0751d91',
      'group40-shard1of1': '06e63442b82f9a9ee53c6623b9f075aaa92a286c35d8f37ec6b6e58ff6e4eec1',
      'group41-shard1of1': '1a31e532f7918b7c2abbf86bd4ba83357af06e13f9eecb431fcbfd43739be3e9',
      'group42-shard1of1': '6aee67f861139d308f8c3edbd83ae1efa398ee83108b5004bab57984e7128e66',
      'group43-shard1of1': 'a9e74c49739a0a7b8668aa82ead0da33dc5ae5adab8fd30edbb64b9bfca341a5',
      'group44-shard1of1': '1a06e526debe9ece45ab3d5171ba0a82270187982cf74bb3f3e13bfb07e815d8',
      'group45-shard1of1': '9bf6693d9abd3272add6936b9582bdef043c5be9ffa3c34d0f55dd45d9c3eaa1',
      'group46-shard1of1': 'cf5d3fa48f73a4e96fabf52369c4fd3944c66c174f9a0f0c32a74f85a652496d',
      'group47-shard1of1': 'e74b658997342f16d95bb370052f62116150f5954c71f5f0bfc39b487016177f',
      'group48-shard1of1': '76df2c6b07777e7ac2fd2ccd50b72e5b7537a068198f896c458ef131c785f4c6',
      'group49-shard1of1': '9ffa2bc5a5dd357e2c224f390524508ed6eb7579e440ae70785167357da84c2a',
      'group50-shard1of1': '88858e48f4a3c8d953e281462f32971340d671f2e08e09be26ba140647264b0b',
      'group51-shard1of1': '3279efe417072ed8a64ee5bfd6122bf7bb952a846acec74d51af5c2938946f6f',
      'group52-shard1of1': '99bcebafa9bcb17c3045f9fb66bb956684a117a229c2b7ebb6b69800e1d0e158',
      'group53-shard1of1': 'fb009466c7f22322df570d32f3d69d025c1450ed3226970939f69766ebeb05a5',
      'group54-shard1of1': 'ec11ebd99a65e90d0f8a9e93d6edaa6473351553802c56d9869e433966e9b88b',
      'group55-shard1of1': '510435e7b0a4d458a47f9cfd024ef44bf9a4c5b64add54d35f4523bcda7a8efa',
    },
  }),
  withInputRange({
    ...KERAS_MOBILENET,
    id: 'mobilenet_v1_0.25_224',
    // By the README's rule: of the passing maps, HiResCAM at conv_pw_9_relu has the most energy
    // (253/300, 0.651) — below the centre prior (272/300, 0.677), as every passing map of this model.
    defaultView: { method: 'hirescam', layer: 'conv_pw_9_relu' },
    viewFigures: { pointing: 253 / 300, energy: 0.651, spearman: 0.022 },
    displayName: 'MobileNet V1 0.25 (224)',
    url: `${HOST}/mobilenet_v1_0.25_224/model.json`,
    fetch: 'default',
    note: 'fast: about 3x quicker, 49.8% top-1, 1.9 MB',
    bytes: 1_902_176 + MOBILENET_JSON_BYTES,
    // model.json is not listed: the only local copy has a rebuilt topology, so it is checked structurally.
    sha256: {
      'group1-shard1of1': 'edabf35aefbb81c92764cbfff6319c77376bfc36febff8fcda7af703d2b2d6aa',
      'group2-shard1of1': '2c1e2fdf2b434592a87f2473ee63eaadec9b9992274bf894bf9022aa62a4b295',
      'group3-shard1of1': '5c6dc065b191c2d25817b1363962b3750b10f12d1da45503d4f2b35f63828b44',
      'group4-shard1of1': '47b68d00ca57c0b6e39fb9d39e4eb7dabf0b99ec38c49bc45e1397cea329fe46',
      'group5-shard1of1': '165a39308c2b2db017e4e1c70d70014da8e7b2057d214a92b87ccd0aa8ecb8da',
      'group6-shard1of1': '0a9369be8b5dfb7f25eb782ca9d57bcf5c6018a60c5789975b7c802d2e9a8033',
      'group7-shard1of1': '7b7c74cb5c301312a7c62c9eeb4fdc8c5c57880f58268c32c1060bae7452a93a',
      'group8-shard1of1': '1403fb88a00a1ee465631c6fdb8eec0d532a7b4d9e946f03ae6848304bf41082',
      'group9-shard1of1': 'e29621b35ebb0a35d22a11ae5b1bb070c0526577bd92ed9c2cbf0a63f055b4e1',
      'group10-shard1of1': 'ac7417eb2b88016e6aed832a0cb61369e6457a7bbfef1167c22e49e00cf2a315',
      'group11-shard1of1': '31fc5c67b4f0f32a86069c90f5098988fb4b6b9d6e837cde9318bf82c6ace283',
      'group12-shard1of1': '45befac068de20c8d151a3cba9f7d09a0d4e0fd23e786a78615a98eb0800b1a5',
      'group13-shard1of1': '7c292473c55e234091f8d99422743779a5a9e8f91d49c90ef9a77432290299d4',
      'group14-shard1of1': '74ec361a7398c2510727c6a513f6e79a407aa5332f8a1b2b8c992b445a108c98',
      'group15-shard1of1': '268bfbd17bd9333c3867de58d15c359f8211111b47130361fc078ad85c838c17',
      'group16-shard1of1': 'fd6b29d8b2c4b14cb68b23c5b065c98cb5bf5b1bb591823fabbbf59a5699dcb3',
      'group17-shard1of1': 'ea7b1678a5eecbbec96a7aacb5577f54df43f71be8ee2480b5942e717488f6de',
      'group18-shard1of1': '56f8ed19d60e630e7a528adc90bc7215991c42606435be271ba2e1301317f353',
      'group19-shard1of1': '65f3ba8b805628857d9305ddec4b07b2ba3c578a7740d10791384a3ff5574ad1',
      'group20-shard1of1': '7050469756997f7f39f29123924e4d570740c865b9778102b4b5e860a60d2445',
      'group21-shard1of1': '32124cabcfdc5859466b6af656c8467fb4a48bdaac6382ab5b5db015565a09b4',
      'group22-shard1of1': '34fa5b0e22b0d998a9fe503fb921cf947c1f163d4b70017801cb6e900b1ab6d5',
      'group23-shard1of1': 'b7ac12c0857e6de96b0973df3f68bfe0d49a24f2408c120fe698e4b892bf00cc',
      'group24-shard1of1': '5206911ca627537095d3b4f6389df6d3d6397a7faee336e67215b71a691c8ae9',
      'group25-shard1of1': 'b2be37c058ad99a6bd51ca54884b3dfe278b33e5372d470ba8f4a8859139fb7d',
      'group26-shard1of1': '59fa80185c94b52f85592b65de71563a8acca6ed5cb94c4ae8f2a02ec97e808c',
      'group27-shard1of1': '67a89784137ea9720e6c5ee9d70113933e087100f3f0df3eebefda9dc11c72a3',
      'group28-shard1of1': 'c6fec2526a167ae899ad6bc96a27a4e525ef5e94da0c23a37465ecae266afd4d',
      'group29-shard1of1': '530f049c43b9f31f2e4aa2663723a5090cdec42f243833f348acb400a386311c',
      'group30-shard1of1': '1d202ecdbb7d48aa152ccb8cc34b24812f774038802f80a3e8889b3ab3b48599',
      'group31-shard1of1': '8dd9917bfc71ffec7d2f9b8a74a47b59fbc1f7d03e18c1a7996fb64cca244cb7',
      'group32-shard1of1': '93fd2a5988cb4578cf6ccb7f65eaf838621307923b726f4d34a9a69c82aa7835',
      'group33-shard1of1': 'ce01c0edb4584d50dddaf7d0deba4ab156b43176c8810a92b21ab0b239cecfba',
      'group34-shard1of1': '6cca55e52e39b97b87d67a21180fba53e51d3e2cdbb157ebfa09530836119364',
      'group35-shard1of1': '71a4b8f17edb37acb78b0acd6d666f247fbd41588528f84c74514054274f91bb',
      'group36-shard1of1': '88a53e2fe1d619390a3783149161113d6c792262133bd07d2a7ee0f0c8176e00',
      'group37-shard1of1': '63f0914ba3f4cd773e2b4eae2235ab43cb325b1ab21f1dc7325160b5b6aa0f3b',
      'group38-shard1of1': 'a762f7d6c962f43b16e8ef3fede568eac7f6fb2941af14cb25ef9a211e50f704',
      'group39-shard1of1': '6d0bdad897777f9eff6645374b533887cc446ebbb775ee9c4fb6ba3651c39be8',
      'group40-shard1of1': 'b0d70f6c3943ff882969ee42494650cbad05b6358ae4dd7fb767052e2c8d61a9',
      'group41-shard1of1': 'be3ae0501d536d6b8ebc9848b978062772dff56591473a3d593cdd23bad8557b',
      'group42-shard1of1': '6bab02eafbdb5743a75b8a18f4676f0206b9b2ddfe58bb752b3624fef4570bee',
      'group43-shard1of1': 'b1670b847b867f3375c5c28182f8dc7ec4cd5227e8a288e63c205057b4bcae06',
      'group44-shard1of1': '9449cf689bf0c590b8637e2d85cd66121af6e24ef23e327e1e9616e33c943ccf',
      'group45-shard1of1': '53adf89e30f46c58b4f2d692e3f74901346e0d9220abd42910069aa04b8a2ec6',
      'group46-shard1of1': '1f43e3baf5e0c002b161da703a15c05f331e6369da2ec24d9427365052e8ea02',
      'group47-shard1of1': 'ff90f4c898656ab72f1b22c661527d33ea24c277e0ec41a694b796bc70bbef62',
      'group48-shard1of1': '619417b59fbc5c8b19c0103a1356d8c6cc2edbbacae04d61bd66d568ca44ca10',
      'group49-shard1of1': '1277abc3755440b0589d7c19630c48ff996c7ed64cfdf29c9dfcc539db5788ea',
      'group50-shard1of1': 'fa47f3541eea153174b3159d5fe2d376de467a49925870fea3804f31253ca227',
      'group51-shard1of1': '56e538501e0a023c76eef09155492d06ac9b6c23e1ff740ce41b82b3c31d6e94',
      'group52-shard1of1': '5f089a0979fa68b7637bf26c51e866b6e08d2bad72e1a3e10dec081d551133e2',
      'group53-shard1of1': '00ede3172b77a23b95371ea79f0480b6a46c296c3c875732beeb213278223c4e',
      'group54-shard1of1': 'f9cda80d267ab6ef2c657afed93c1f0342db0a14c8c61ee8036dcd6ba04cf526',
      'group55-shard1of1': 'f047ff48ce2829fd9c10bbae13c9443d77d2450c3373b47ca3f8b837f0012789',
    },
  }),
  withInputRange({
    ...KERAS_MOBILENET,
    id: 'mobilenet_v1_0.50_224',
    displayName: 'MobileNet V1 0.50 (224)',
    url: `${HOST}/mobilenet_v1_0.50_224/model.json`,
    fetch: 'on-request',
    note: '63.3% top-1, 5.3 MB',
    bytes: 5_370_144 + MOBILENET_JSON_BYTES,
    sha256: {},
  }),
  withInputRange({
    ...KERAS_MOBILENET,
    id: 'mobilenet_v1_1.0_224',
    displayName: 'MobileNet V1 1.0 (224)',
    url: `${HOST}/mobilenet_v1_1.0_224/model.json`,
    fetch: 'on-request',
    note: 'most accurate: 70.6% top-1, 16.9 MB',
    bytes: 17_015_456 + MOBILENET_JSON_BYTES,
    sha256: {},
  }),
  withInputRange({
    id: 'googlenet',
    displayName: 'GoogLeNet (BVLC, 224)',
    format: 'caffe',
    url: `${CAFFEJS}/bvlc_googlenet/`,
    mirrorFolder: 'bvlc_googlenet_caffejs',
    fetch: 'on-request',
    note: "MATLAB's googlenet: 68.7% top-1 published, 28.0 MB",
    bytes: 28_030_103,
    sha256: GOOGLENET_SHA256,
    inputSize: [224, 224],
    normalize: 'caffe',
    logitLayer: 'loss3/classifier',
    softmaxLayer: 'prob',
    featureLayer: 'inception_5b/output',
    camLayer: 'inception_5b/output',
    // By the README's rule (docs/zoo/): of the maps that pass the sanity check, HiResCAM at the 14×14
    // inception_4e/output has the most energy in the boxes (277/300, 0.742; Grad-CAM at
    // inception_5b/output, MATLAB's view and the CLI's default, 278/300, 0.714; the centre prior
    // 272/300, 0.677). LayerCAM there points at 285/300 but fails the check (ρ 0.81).
    defaultView: { method: 'hirescam', layer: 'inception_4e/output' },
    viewFigures: { pointing: 277 / 300, energy: 0.742, spearman: 0.007 },
    licence: 'BVLC model zoo: released for unrestricted use (caffejs conversion code MIT)',
  }),
  withInputRange({
    id: 'squeezenet1.1',
    displayName: 'SqueezeNet 1.1 (227)',
    format: 'caffe',
    url: `${CAFFEJS}/squeezenet/`,
    mirrorFolder: 'squeezenet1.1_caffejs',
    fetch: 'on-request',
    note: "MATLAB's webcam CAM network: no fully connected layer, 5.0 MB",
    bytes: 4_960_837,
    sha256: SQUEEZENET_1_1_SHA256,
    inputSize: [227, 227],
    normalize: 'caffe',
    // conv10 → ReLU → global average pooling: the pooled relu_conv10 channels are the class scores.
    logitLayer: 'pool10',
    softmaxLayer: 'prob',
    featureLayer: 'relu_conv10',
    camLayer: 'relu_conv10',
    // At relu_conv10 the gradient of a class is its own channel, so CAM, Grad-CAM, HiResCAM and
    // LayerCAM are all the class's channel (what MATLAB's webcam example shows): 284/300, 0.716,
    // passing the check (ρ 0.11). LayerCAM at fire9/concat points at 286/300 but fails it (ρ 0.31).
    defaultView: { method: 'hirescam', layer: 'relu_conv10' },
    viewFigures: { pointing: 284 / 300, energy: 0.716, spearman: 0.111 },
    licence: 'BSD-2-Clause (DeepScale/SqueezeNet)',
  }),
  withInputRange({
    id: 'densenet121',
    displayName: 'DenseNet-121 (224)',
    format: 'tfjs-layers',
    url: `${TFJS_GRADCAM}/DenseNet121/model.json`,
    mirrorFolder: 'densenet121_keras',
    fetch: 'on-request',
    note: '75.0% top-1 published (Keras Applications), 32.5 MB',
    bytes: 32_529_026,
    sha256: DENSENET121_SHA256,
    inputSize: [224, 224],
    normalize: 'imagenet',
    // The Dense layer has a softmax activation: the engine splits it into the linear fc1000 and
    // a softmax node named fc1000/softmax.
    logitLayer: 'fc1000',
    softmaxLayer: 'fc1000/softmax',
    featureLayer: 'bn',
    camLayer: 'bn',
    // By the README's rule (docs/zoo/): Grad-CAM and HiResCAM at bn (= CAM there) pass the sanity
    // check (ρ 0.16 with the classifier re-initialised) with the most energy in the boxes (277/300,
    // 0.704; the centre prior 272/300, 0.677); LayerCAM at bn fails it (ρ 0.91).
    defaultView: { method: 'hirescam', layer: 'bn' },
    viewFigures: { pointing: 277 / 300, energy: 0.704, spearman: 0.158 },
    licence:
      "weights: Keras Applications' port of the authors' release (BSD-3-Clause upstream); the hosting repository's code is GPL-3.0",
  }),
  withInputRange({
    id: 'mobilenetv2',
    displayName: 'MobileNet V2 1.0 (ONNX int8, 224)',
    format: 'onnx',
    url: ONNX_MOBILENETV2,
    mirrorFolder: 'mobilenetv2-12-int8_onnx',
    fetch: 'on-request',
    note: "MATLAB's webcam CAM network, as PyTorch users export it (ONNX, int8 weights run in float), 3.7 MB",
    bytes: 3_655_640,
    sha256: { 'mobilenetv2-12-int8.onnx': '83530ad811bc31d2b60a5599a21265a5057608c9b044b4ee758cc22f2309f54f' },
    inputSize: [224, 224],
    normalize: 'imagenet',
    // The quantizer named the final Gemm's halves; its MatMul takes the Add's bias (onnx-quantized.ts).
    logitLayer: 'Gemm_104_MatMul',
    softmaxLayer: null,
    // The last 7×7 map, 1280 channels after ReLU6: MATLAB's mobilenetv2 calls it out_relu.
    featureLayer: 'Conv_95',
    camLayer: 'Conv_95',
    // By the README's rule (docs/zoo/eval-mobilenetv2.txt): of the maps that pass the sanity check,
    // HiResCAM at the 14×14 Conv_73 (block 13's expansion, ReLU6) has the most energy in the boxes
    // (280/300, 0.712; the centre prior 272/300, 0.677); Grad-CAM there points at 148/300 only, and
    // LayerCAM fails the check (ρ 0.89).
    defaultView: { method: 'hirescam', layer: 'Conv_73' },
    viewFigures: { pointing: 280 / 300, energy: 0.712, spearman: 0.02 },
    licence: 'Apache-2.0 (ONNX Model Zoo)',
  }),
];

export const DEFAULT_MODEL_ID = 'mobilenet_v1_0.75_224';
export const FAST_MODEL_ID = 'mobilenet_v1_0.25_224';

export function findModel(id: string): ModelEntry | undefined {
  return MODELS.find((m) => m.id === id);
}

/** The URL of the folder a model's files sit in at its public home (ends in `/`). */
export function homeFolderUrl(entry: ModelEntry): string {
  return entry.format === 'caffe' ? entry.url : entry.url.slice(0, entry.url.lastIndexOf('/') + 1);
}

/** The folders of a mirror a model may be in, in the order they are tried. */
export function mirrorFolders(entry: ModelEntry): string[] {
  return entry.mirrorFolder && entry.mirrorFolder !== entry.id ? [entry.id, entry.mirrorFolder] : [entry.id];
}

/**
 * The view the app opens with and `c` returns to, for a registered model; for any other model
 * (Teachable Machine, taught, opened from files) HiResCAM at the last conv map (`auto`).
 */
export function defaultView(modelId: string): DefaultView {
  // HiResCAM at the last conv map passes the sanity check on any network that ends in pooling and a linear head.
  const view = findModel(modelId)?.defaultView ?? { method: 'hirescam', layer: 'auto' };
  return { ...view, reduction: 'logit' };
}
