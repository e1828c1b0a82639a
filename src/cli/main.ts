import { isWhyCamError } from '../explain/errors.js';
import { ACCURACY_USAGE, accuracyCommand } from './accuracy-command.js';
import { EVAL_USAGE, evalCommand } from './eval-command.js';
import { SANITY_USAGE, sanityCommand } from './sanity-command.js';
import { EXPLAIN_USAGE, explainCommand } from './explain-command.js';
import { MODELS_USAGE, modelsCommand } from './models-command.js';

const USAGE = `WhyCam — see why an ImageNet CNN decides what it decides (CAM, Grad-CAM, Grad-CAM++, LayerCAM, HiResCAM).

Commands:
  whycam explain <image|folder...> [options]   classify and explain still images
  whycam eval --images DIR --boxes FILE        score localisation and faithfulness against bounding boxes
  whycam sanity --images DIR                   does the map depend on the network? (model randomisation)
  whycam accuracy --images DIR                 top-1 / top-5 on photos listed in DIR/labels.tsv
  whycam models [options]                      download and verify the models

Run \`whycam <command> --help\` for the options.

${EXPLAIN_USAGE.split('\n')[0]}
${EVAL_USAGE.split('\n')[0]}
${SANITY_USAGE.split('\n')[0]}
${ACCURACY_USAGE.split('\n')[0]}
${MODELS_USAGE.split('\n')[0]}`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  explain: explainCommand,
  eval: evalCommand,
  sanity: sanityCommand,
  accuracy: accuracyCommand,
  models: modelsCommand,
};

/** Runs the CLI and returns the exit code: 0 done, 1 some inputs failed, 2 refused (bad option or input). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`whycam: unknown command "${command}". Valid commands: ${Object.keys(COMMANDS).join(', ')}.`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (!isWhyCamError(e)) throw e;
    console.error(`whycam: ${e.message}`);
    return 2;
  }
}
