// The shopping list in Vue over statechannel-client/vue: state is a
// shallowRef the channel replaces (structural sharing) at every change;
// the template in vue.html is compiled in the page.
import { createApp, ref, nextTick } from 'vue';
import { useStateChannel } from '/client/src/vue.js';

const params = new URLSearchParams(location.search);
const listName = (params.get('list') || 'groceries').replace(/[^A-Za-z0-9:_.@-]/g, '') || 'groceries';

createApp({
  setup() {
    const { state, status, pending, version, push, channel } = useStateChannel({ baseUrl: '', topic: `list:${listName}` });
    window.statechannel = channel; // for the browser tests and the console
    const name = ref('');
    const quantity = ref(1);
    const error = ref(null);
    const editing = ref(null);
    async function send(event, payload) {
      try {
        const answer = await push(event, payload);
        error.value = null;
        return answer;
      } catch (err) {
        error.value = err;
        return null;
      }
    }
    async function add() {
      const payload = { name: name.value, quantity: quantity.value };
      name.value = '';
      quantity.value = 1;
      if (!(await send('add', payload)) && name.value === '') ({ name: name.value, quantity: quantity.value } = payload);
    }
    async function rename(item, value) {
      if (editing.value !== item.id) return;
      editing.value = null;
      if (value !== item.name) await send('rename', { id: item.id, name: value });
    }
    // focus the rename box when it appears
    const focusEditing = () => nextTick(() => document.querySelector('.rename-input')?.focus());
    return { listName, state, status, pending, version, name, quantity, error, editing, send, add, rename, focusEditing };
  },
  watch: {
    editing(v) {
      if (v) this.focusEditing();
    },
  },
}).mount('#app');
