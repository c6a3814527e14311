// The comparison lives in @hexedge/protocol since the gateway's rollouts compare versions with it too.
export { maxAbsDifference, normaliseTensors } from '@hexedge/protocol';
