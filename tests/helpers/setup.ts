import * as tf from '@tensorflow/tfjs-core';

// tfjs prints advice to install tfjs-node the first time the cpu backend runs in Node; tests are not the place.
tf.env().set('IS_TEST', true);
